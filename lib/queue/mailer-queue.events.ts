import type { SendResult } from '../core/send-result.types.js';
import type { SerializedMail } from './mail.serializer.js';

/** Event names, also used as @nestjs/event-emitter event names. */
export const MAIL_QUEUE_EVENTS = {
  queued: 'mail.queue.queued',
  sent: 'mail.queue.sent',
  failed: 'mail.queue.failed',
} as const;

/** A mail was put on the queue (published in the process that enqueued it). */
export interface MailQueuedEvent {
  type: typeof MAIL_QUEUE_EVENTS.queued;
  jobId: string;
  /** The mail as it is stored in the job. */
  mail: SerializedMail;
  transport?: string;
  delay?: number;
  priority?: number;
}

/** A worker of this process sent a job's mail. */
export interface MailQueueSentEvent {
  type: typeof MAIL_QUEUE_EVENTS.sent;
  jobId: string;
  result: SendResult;
  /** The attempt that succeeded, from 1. */
  attempt: number;
}

/** An attempt of a worker of this process failed. */
export interface MailQueueFailedEvent {
  type: typeof MAIL_QUEUE_EVENTS.failed;
  jobId: string;
  error: Error;
  /** The attempt that failed, from 1. */
  attempt: number;
  /** True when the job will not be tried again: a permanent failure, or its last attempt. */
  final: boolean;
}

export type MailQueueEvent = MailQueuedEvent | MailQueueSentEvent | MailQueueFailedEvent;
