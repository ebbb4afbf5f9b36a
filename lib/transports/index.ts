export { createTransport, type TransportConfig, type MemoryTransportOptions } from './transport.config.js';
export { MemoryTransport } from './memory.transport.js';
export { SmtpTransport } from './smtp/smtp.transport.js';
export type { SmtpTransportOptions, SmtpAuthOptions, SmtpPoolOptions, SmtpTlsMode } from './smtp/smtp.options.js';
export type { MailDefaults, AttachmentPolicy } from './mail.compose.js';
