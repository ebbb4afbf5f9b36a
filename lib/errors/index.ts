export * from './mailer.error.js';
export { redact } from './redact.js';
