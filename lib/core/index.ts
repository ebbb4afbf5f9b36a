export * from './mail.types.js';
export * from './dkim.types.js';
export * from './classification.types.js';
export * from './send-result.types.js';
export * from './transport.types.js';
export * from './send-trace.types.js';
export * from './events.types.js';
export * from './delivery-event.types.js';
