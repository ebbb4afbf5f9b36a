import type { ModuleRef } from '@nestjs/core';

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
