export * from './core/index.js';
export * from './errors/index.js';
export * from './transports/index.js';
export * from './nest/index.js';
export * from './templates/index.js';
export * from './retry/index.js';
export * from './suppression/index.js';
export * from './bounces/index.js';
