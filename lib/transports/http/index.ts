export { HttpTransport, DEFAULT_HTTP_TIMEOUT, DEFAULT_BATCH_CONCURRENCY, headerValue } from './http.transport.js';
export type {
  BatchSendOutcome,
  FailureInput,
  HttpRequest,
  HttpResponse,
  HttpSendOptions,
  HttpTransportOptions,
  ProviderErrorDetails,
} from './http.types.js';
export { mapWithConcurrency, chunk } from './concurrency.js';
export { parseRetryAfter, parseEpochSecondsReset, parseDeltaSecondsReset } from './retry-after.js';
export {
  allRecipients,
  attachmentBytes,
  derivedHeaders,
  formatAddress,
  hasCustomEnvelope,
  outgoingHeaders,
  resolveAttachments,
  stripAngleBrackets,
  type ResolvedAttachment,
} from './mail-parts.js';
export { classifyHttpFailure, classifyRejectedRecipient } from './failure-classification.js';
export { readWebhookJson } from './webhook-body.js';
export { buildMimeMessage, type MimeAttachment } from './mime-message.js';
