export {
  createTransport,
  type TransportConfig,
  type MemoryTransportOptions,
  type SendGridTransportConfig,
  type PostmarkTransportConfig,
  type SesTransportConfig,
  type MailgunTransportConfig,
  type ResendTransportConfig,
  type CompositeTransportConfig,
} from './transport.config.js';
export { MemoryTransport } from './memory.transport.js';
export { SmtpTransport } from './smtp/smtp.transport.js';
export type { SmtpTransportOptions, SmtpAuthOptions, SmtpPoolOptions, SmtpTlsMode } from './smtp/smtp.options.js';
export type { MailDefaults, AttachmentPolicy } from './mail.compose.js';
export { RoundRobinTransport, DEFAULT_RETRY_PERIOD, type RoundRobinTransportOptions } from './roundrobin.transport.js';
export { FailoverTransport, type FailoverTransportOptions } from './failover.transport.js';
export { isTransportFault, normalizeTransportFailure } from './transport-failure.js';
export { sendThrough, DEFAULT_SEND_CONCURRENCY } from './transport-batch.js';
export {
  SendGridTransport,
  PostmarkTransport,
  SesTransport,
  MailgunTransport,
  ResendTransport,
  type SendGridTransportOptions,
  type PostmarkTransportOptions,
  type SesTransportOptions,
  type MailgunTransportOptions,
  type ResendTransportOptions,
} from './providers/index.js';
export type { HttpTransportOptions, HttpSendOptions, BatchSendOutcome } from './http/index.js';
export * from './providers/index.js';
export type { TransportContext, TransportLogger } from './transport-logger.js';
export type { SmtpLogger, SmtpOAuth2PrivateKey } from './smtp/smtp.options.js';
