/**
 * Milliseconds to wait, from a Retry-After value: delta-seconds (`120`, `1.5`) or an HTTP date
 * (RFC 9110 §10.2.3). A date in the past means "now" (0). Anything else is ignored.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  // Every HTTP-date form starts with a day name; anything else (`-5`, `2026`) is not one.
  if (!/^[A-Za-z]{3}/.test(text)) return undefined;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** Milliseconds until a reset given as Unix time in seconds (SendGrid's `X-RateLimit-Reset`). */
export function parseEpochSecondsReset(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined || !/^\d+(\.\d+)?$/.test(value.trim())) return undefined;
  return Math.max(0, Math.round(Number(value.trim()) * 1000 - now));
}

/** Milliseconds from a reset given as seconds from now (IETF `RateLimit-Reset`, used by Resend). */
export function parseDeltaSecondsReset(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined || !/^\d+(\.\d+)?$/.test(value.trim())) return undefined;
  return Math.round(Number(value.trim()) * 1000);
}
