export { MailerQueueModule } from './mailer-queue.module.js';
export { MAILER_QUEUE_OPTIONS } from './mailer-queue.tokens.js';
export {
  MailerQueue,
  type EnqueueOptions,
  type EnqueueResult,
  type MailJobResult,
  type MailQueueEntry,
} from './mailer-queue.service.js';
export {
  DEFAULT_QUEUE_NAME,
  DEFAULT_QUEUE_CONCURRENCY,
  DEFAULT_ENQUEUE_TIMEOUT,
  DEFAULT_SHUTDOWN_TIMEOUT,
  DEFAULT_MAX_STALLED_COUNT,
  DEFAULT_REMOVE_ON_COMPLETE,
  DEFAULT_REMOVE_ON_FAIL,
  type BullmqModule,
  type MailerQueueConnection,
  type MailerQueueKeepJobs,
  type MailerQueueMode,
  type MailerQueueModuleExtras,
  type MailerQueueModuleOptions,
  type MailerQueueRedisClient,
  type MailerQueueRedisOptions,
} from './mailer-queue.options.js';
export {
  MAIL_QUEUE_EVENTS,
  type MailQueueEvent,
  type MailQueuedEvent,
  type MailQueueSentEvent,
  type MailQueueFailedEvent,
} from './mailer-queue.events.js';
export { serializeMail, deserializeMail, type SerializedMail, type SerializedAttachment, type MailJobData } from './mail.serializer.js';
export type { SerializedCalendarEvent, SerializedDkimOptions } from './mail.serializer.js';
export { importBullmq, BULLMQ_INSTALL } from './bullmq.loader.js';
