import type { CalendarEvent, CalendarEventInput, CalendarMethod } from '../../core/mail.types.js';
import { InvalidMailError } from '../../errors/mailer.error.js';
import { checkHeaderText } from '../mail-header.rules.js';

/** The iTIP methods of RFC 5546. */
export const CALENDAR_METHODS: readonly CalendarMethod[] = ['PUBLISH', 'REQUEST', 'REPLY', 'ADD', 'CANCEL', 'REFRESH', 'COUNTER', 'DECLINECOUNTER'];
export const DEFAULT_CALENDAR_FILENAME = 'invite.ics';

const KNOWN_KEYS = ['method', 'filename', 'content', 'encoding', 'path'];
const FIELD = 'icalEvent';
// Control characters would break the Content-Type header the method ends up in.
const CONTROL = /[\x00-\x1f\x7f]/;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

function fail(message: string): never {
  throw new InvalidMailError(`${FIELD}: ${message}`, FIELD);
}

function methodOf(value: unknown, where: string): CalendarMethod {
  const method = typeof value === 'string' ? value.trim().toUpperCase() : '';
  if (!(CALENDAR_METHODS as readonly string[]).includes(method)) {
    const shown = typeof value === 'string' && !CONTROL.test(value) ? JSON.stringify(value) : 'a value with control characters';
    fail(`${where} is ${typeof value === 'string' ? shown : typeof value}; use one of ${CALENDAR_METHODS.join(', ')} (RFC 5546).`);
  }
  return method as CalendarMethod;
}

/** The METHOD property of the VCALENDAR object, from its unfolded lines (RFC 5545 §3.1). */
function contentMethod(text: string): string | undefined {
  const unfolded = text.replace(/\r?\n[ \t]/g, '');
  return /^METHOD(?:;[^:\r\n]*)?:(.*)$/im.exec(unfolded)?.[1]?.trim();
}

function checkFilename(value: unknown): string {
  if (value === undefined) return DEFAULT_CALENDAR_FILENAME;
  if (typeof value !== 'string' || value.trim() === '') fail('filename must be a non-empty string.');
  // Written like an attachment's name: the same rules as every other header field.
  checkHeaderText(value, `${FIELD}.filename`, { before: ' name="', after: '"', quoted: true });
  return value;
}

function decode(bytes: Buffer): string {
  try {
    return UTF8.decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    return fail('content is not UTF-8 text (RFC 5545 iCalendar is UTF-8).');
  }
}

/**
 * Reads and checks a mail's `icalEvent`: content (or the file/URL at `path`, through `readPath`,
 * which applies the attachment policy) must be an iCalendar object, the method an iTIP method that
 * agrees with the object's METHOD, the filename free of control characters. Everything wrong is
 * an InvalidMailError, before anything is sent.
 */
export async function resolveCalendarEvent(input: CalendarEventInput, readPath: (path: string) => Promise<Buffer>): Promise<CalendarEvent> {
  if (!input || typeof input !== 'object' || Array.isArray(input)) {
    fail('expected { method, content | path, filename }.');
  }
  const unknown = Object.keys(input).find((k) => !KNOWN_KEYS.includes(k) && (input as unknown as Record<string, unknown>)[k] !== undefined);
  if (unknown) fail(`unknown option "${unknown}"${unknown === 'href' ? ' (give a URL as path)' : ''}. Known: ${KNOWN_KEYS.join(', ')}.`);
  const explicit = input.method === undefined ? undefined : methodOf(input.method, 'method');
  const filename = checkFilename(input.filename);
  if ((input.content === undefined) === (input.path === undefined)) {
    fail(input.content === undefined ? 'give content or path.' : 'give content or path, not both.');
  }
  let bytes: Buffer;
  if (input.path !== undefined) {
    if (typeof input.path !== 'string' || input.path === '') fail('path must be a file path or URL.');
    bytes = await readPath(input.path);
  } else if (Buffer.isBuffer(input.content)) {
    bytes = input.content;
  } else if (typeof input.content === 'string') {
    bytes = Buffer.from(input.content, input.encoding ?? 'utf8');
  } else {
    fail('content must be a string or a Buffer.');
  }
  const content = decode(bytes);
  if (!/^\s*BEGIN:VCALENDAR\r?\n/i.test(content) || !/^END:VCALENDAR\s*$/im.test(content)) {
    fail('content is not an iCalendar object (BEGIN:VCALENDAR … END:VCALENDAR).');
  }
  const declared = contentMethod(content);
  const fromContent = declared === undefined ? undefined : methodOf(declared, 'the METHOD of the content');
  if (explicit && fromContent && explicit !== fromContent) {
    fail(`method is ${explicit} but the content says METHOD:${fromContent}; they must agree (RFC 6047 §2.4).`);
  }
  return { method: explicit ?? fromContent ?? 'PUBLISH', filename, content: content.replace(/^\s+/, '') };
}

/** Checks an outgoing mail's calendar event again (a listener may have replaced it). */
export function assertCalendarEvent(event: CalendarEvent | undefined): void {
  if (event === undefined) return;
  if (!event || typeof event !== 'object') fail('expected a calendar event.');
  methodOf(event.method, 'method');
  checkFilename(event.filename);
  if (typeof event.content !== 'string' || !/^BEGIN:VCALENDAR/i.test(event.content)) fail('content is not an iCalendar object.');
}

/** `text/calendar; charset=utf-8; method=REQUEST`: the type iMIP (RFC 6047 §2.4) asks for. */
export function calendarContentType(event: CalendarEvent, options: { charset?: boolean } = {}): string {
  return `text/calendar;${options.charset === false ? '' : ' charset=utf-8;'} method=${event.method}`;
}
