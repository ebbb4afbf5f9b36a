import addressparser from 'nodemailer/lib/addressparser';

const EMAIL = /^[^\s@<>,;"]+@[^\s@<>,;"]+\.[^\s@<>,;"]+$/;

export const isEmail = (value: unknown): value is string => typeof value === 'string' && EMAIL.test(value);

/** True when `value` is canonical base64 (what a provider decodes without loss). */
export function isBase64(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && Buffer.from(value, 'base64').toString('base64') === value;
}

/** Addresses out of a header-style list (`"Ada" <ada@x.test>, bob@x.test`), as providers parse them. */
export function parseAddressList(value: unknown): Array<{ name: string; address: string }> {
  if (typeof value !== 'string' || value.trim() === '') return [];
  const out: Array<{ name: string; address: string }> = [];
  for (const entry of addressparser(value)) {
    if ('group' in entry && entry.group) for (const member of entry.group) out.push({ name: member.name, address: member.address ?? '' });
    else out.push({ name: entry.name, address: (entry as { address?: string }).address ?? '' });
  }
  return out;
}

let counter = 0;
export const fakeId = (prefix = ''): string => `${prefix}${Date.now().toString(16)}-${(++counter).toString(16).padStart(4, '0')}`;
