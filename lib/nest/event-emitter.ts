import type { Logger } from '@nestjs/common';
import type { ModuleRef } from '@nestjs/core';
import type { Subject } from 'rxjs';

/** The part of EventEmitter2 the package publishes through. */
export interface EventSink {
  emitAsync(event: string, ...values: unknown[]): Promise<unknown[]>;
}

/**
 * The application's EventEmitter2, when @nestjs/event-emitter (an optional peer) is installed and
 * its EventEmitterModule imported; otherwise undefined.
 */
export async function findEventEmitter(moduleRef: ModuleRef): Promise<EventSink | undefined> {
  let EventEmitter2: unknown;
  try {
    ({ EventEmitter2 } = await import('@nestjs/event-emitter'));
  } catch {
    return undefined;
  }
  try {
    return moduleRef.get(EventEmitter2 as never, { strict: false }) as EventSink;
  } catch {
    return undefined;
  }
}

/**
 * Hands an event to the Observable's subscribers and, when present, to EventEmitter2 listeners;
 * a listener that fails is logged and never fails the send that published the event.
 */
export function publishEvent<E extends { type: string }>(subject: Subject<E>, sink: EventSink | undefined, logger: Logger, event: E): void {
  try {
    subject.next(event);
  } catch (error) {
    logger.error(`A ${event.type} subscriber threw: ${(error as Error).message}`);
  }
  sink?.emitAsync(event.type, event).catch((error: unknown) => {
    logger.error(`A ${event.type} listener failed: ${(error as Error).message}`);
  });
}
