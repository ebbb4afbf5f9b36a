import { BOUNCE_REASONS, type Classification } from '../core/classification.types.js';
import { InvalidMailError } from '../errors/mailer.error.js';
import { addressProblem, showAddress } from '../transports/mail-address.rules.js';
import { isUsableAddress, normalizeAddress } from './suppression.address.js';
import {
  SUPPRESSION_SOURCES,
  type SuppressionEntry,
  type SuppressionInput,
  type SuppressionListOptions,
  type SuppressionReason,
  type SuppressionSource,
} from './suppression.types.js';

/** An entry as the stores keep it: times in epoch milliseconds. */
export interface SuppressionRecord {
  address: string;
  reason: SuppressionReason;
  source: SuppressionSource;
  classification?: Classification;
  createdAt: number;
  expiresAt?: number;
  detail?: string;
}

const REASONS = new Set<string>([...BOUNCE_REASONS, 'manual']);
const SOURCES = new Set<string>(SUPPRESSION_SOURCES);

export const DEFAULT_LIST_LIMIT = 100;
export const MAX_LIST_LIMIT = 1000;
/** Longest `detail` kept; remote replies can be long and the list is read by people. */
export const MAX_DETAIL_LENGTH = 1000;

export function isSuppressionReason(value: unknown): value is SuppressionReason {
  return typeof value === 'string' && REASONS.has(value);
}

export function isSuppressionSource(value: unknown): value is SuppressionSource {
  return typeof value === 'string' && SOURCES.has(value);
}

function timeOf(value: unknown, field: string): number {
  const ms = value instanceof Date ? value.getTime() : Number.NaN;
  if (!Number.isFinite(ms) || ms < 0) {
    throw new InvalidMailError(`Suppression entry: ${field} must be a valid Date after 1970.`, field);
  }
  return ms;
}

/** Checks and normalizes what `add()` was given. Throws InvalidMailError; nothing is stored then. */
export function prepareRecord(input: SuppressionInput, now: number): SuppressionRecord {
  if (!input || typeof input !== 'object') throw new InvalidMailError('Suppression entry: expected an object.', 'entry');
  if (typeof input.address !== 'string') throw new InvalidMailError('Suppression entry: address must be a string.', 'address');
  const address = normalizeAddress(input.address);
  if (!isUsableAddress(address)) {
    throw new InvalidMailError(`Suppression entry: "${showAddress(input.address)}" is not an e-mail address.`, 'address');
  }
  // The rules a mail's recipients must pass: an address no mail can be sent to has no place here.
  const problem = addressProblem(address);
  if (problem) throw new InvalidMailError(`Suppression entry: "${showAddress(input.address)}" ${problem}.`, 'address');
  if (!isSuppressionReason(input.reason)) {
    throw new InvalidMailError(`Suppression entry: unknown reason "${String(input.reason)}".`, 'reason');
  }
  if (!isSuppressionSource(input.source)) {
    throw new InvalidMailError(`Suppression entry: unknown source "${String(input.source)}" (one of ${SUPPRESSION_SOURCES.join(', ')}).`, 'source');
  }
  const record: SuppressionRecord = {
    address,
    reason: input.reason,
    source: input.source,
    createdAt: input.createdAt === undefined ? now : timeOf(input.createdAt, 'createdAt'),
  };
  if (input.expiresAt !== undefined) record.expiresAt = timeOf(input.expiresAt, 'expiresAt');
  if (input.classification !== undefined) record.classification = { ...input.classification };
  if (input.detail !== undefined && input.detail !== '') {
    record.detail = String(input.detail).slice(0, MAX_DETAIL_LENGTH);
  }
  return record;
}

/** A fresh public entry, so callers cannot change what a store holds. */
export function toEntry(record: SuppressionRecord): SuppressionEntry {
  const entry: SuppressionEntry = {
    address: record.address,
    reason: record.reason,
    source: record.source,
    createdAt: new Date(record.createdAt),
  };
  if (record.classification !== undefined) entry.classification = { ...record.classification };
  if (record.expiresAt !== undefined) entry.expiresAt = new Date(record.expiresAt);
  if (record.detail !== undefined) entry.detail = record.detail;
  return entry;
}

export function isLive(record: { expiresAt?: number }, now: number): boolean {
  return record.expiresAt === undefined || record.expiresAt > now;
}

/**
 * Whether `next` may take the place of `current`. A live entry gives way only to one that lasts at
 * least as long (permanent outlasts any date), or to a person's decision (`manual`).
 */
export function replaces(next: SuppressionRecord, current: SuppressionRecord | undefined, now: number): boolean {
  if (!current || !isLive(current, now) || next.source === 'manual') return true;
  if (current.expiresAt === undefined) return next.expiresAt === undefined;
  return next.expiresAt === undefined || next.expiresAt >= current.expiresAt;
}

const TIME_WIDTH = 15;

/**
 * The key lists are ordered by: creation time, zero-padded so that string order is time order,
 * then the address. It is also the cursor handed to callers.
 */
export function cursorKey(createdAt: number, address: string): string {
  return `${String(createdAt).padStart(TIME_WIDTH, '0')}:${address}`;
}

export function addressOfCursorKey(key: string): string {
  return key.slice(TIME_WIDTH + 1);
}

/** The page size, checked. */
export function listLimit(options: SuppressionListOptions): number {
  const limit = options.limit ?? DEFAULT_LIST_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    throw new InvalidMailError(`Suppression list: limit must be a whole number from 1 to ${MAX_LIST_LIMIT}, got ${String(limit)}.`, 'limit');
  }
  return limit;
}

/** The cursor, checked: a key of the form `cursorKey()` writes. */
export function listCursor(options: SuppressionListOptions): string | undefined {
  const cursor = options.cursor;
  if (cursor === undefined || cursor === '') return undefined;
  if (typeof cursor !== 'string' || !/^\d{15}:./s.test(cursor)) {
    throw new InvalidMailError('Suppression list: the cursor is not one this store returned.', 'cursor');
  }
  return cursor;
}

export function listFilter(options: SuppressionListOptions): (record: SuppressionRecord) => boolean {
  const { reason, source } = options;
  if (reason !== undefined && !isSuppressionReason(reason)) {
    throw new InvalidMailError(`Suppression list: unknown reason "${String(reason)}".`, 'reason');
  }
  if (source !== undefined && !isSuppressionSource(source)) {
    throw new InvalidMailError(`Suppression list: unknown source "${String(source)}".`, 'source');
  }
  return (record) => (reason === undefined || record.reason === reason) && (source === undefined || record.source === source);
}
