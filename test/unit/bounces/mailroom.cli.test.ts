import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main, splitMbox } from '../../../lib/cli/mailroom.js';

const fixtures = fileURLToPath(new URL('../../fixtures/bounces/', import.meta.url));

async function run(args: string[], stdin?: Buffer): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const readStdin = () => (stdin ? Promise.resolve(stdin) : Promise.reject(new Error('standard input was not expected to be read')));
  const code = await main(args, (s) => (out += s), (s) => (err += s), readStdin);
  return { code, out, err };
}

describe('mailroom bounce', () => {
  it('prints one JSON line per file in the scorer format', async () => {
    const { code, out } = await run(['bounce', path.join(fixtures, 'postfix-dsn.eml'), '--path-prefix', fixtures]);
    expect(code).toBe(0);
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toEqual({
      file: 'postfix-dsn.eml',
      results: [{ recipient: 'ghost@receiver.test', status: '5.1.1', replycode: '550', reason: 'userunknown', hardbounce: true, kind: 'bounced' }],
    });
  });

  it('walks a directory recursively, sorted, with empty results for non-bounces', async () => {
    const { code, out } = await run(['bounce', fixtures, `--path-prefix=${fixtures}`]);
    expect(code).toBe(0);
    const rows = out.trim().split('\n').map((l) => JSON.parse(l) as { file: string; results: unknown[] });
    expect(rows.map((r) => r.file)).toContain('qmail.eml');
    expect(rows.find((r) => r.file === 'not-a-bounce.eml')!.results).toEqual([]);
    expect([...rows.map((r) => r.file)].sort()).toEqual(rows.map((r) => r.file));
  });

  it('prints auto-replies, challenges and success reports beside the results, never in them', async () => {
    const files = ['auto-reply.eml', 'challenge-tmda.eml', 'delivered-relayed-dsn.eml'].map((f) => path.join(fixtures, f));
    const { code, out } = await run(['bounce', ...files, '--path-prefix', fixtures]);
    expect(code).toBe(0);
    const [auto, challenge, delivered] = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(auto).toEqual({ file: 'auto-reply.eml', results: [], autoreply: true, from: 'pat@receiver.test' });
    expect(challenge).toEqual({ file: 'challenge-tmda.eml', results: [], challenge: true, from: 'pat@receiver.test' });
    expect(delivered).toMatchObject({ file: 'delivered-relayed-dsn.eml', results: [], delivered: [{ recipient: 'lee@receiver.test', status: '2.0.0', kind: 'delivered', hardbounce: false }, { recipient: 'ops@receiver.test' }] });
  });

  it('splits an mbox into its messages', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mailroom-'));
    const mbox = path.join(dir, 'box');
    const a = readFileSync(path.join(fixtures, 'qmail.eml'), 'utf8');
    const b = readFileSync(path.join(fixtures, 'exim.eml'), 'utf8');
    writeFileSync(mbox, `From MAILER-DAEMON Mon Mar  3 10:00:00 2025\n${a}\nFrom MAILER-DAEMON Mon Mar  3 10:00:01 2025\n${b}`);
    expect(splitMbox(readFileSync(mbox))).toHaveLength(2);
    const { out } = await run(['bounce', mbox, '--path-prefix', `${dir}/`]);
    expect(out.trim().split('\n').map((l) => (JSON.parse(l) as { file: string }).file)).toEqual(['box#1', 'box#2']);
  });

  it('splits an mbox whose lines end in a bare CR', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mailroom-'));
    const mbox = path.join(dir, 'macbox');
    const a = readFileSync(path.join(fixtures, 'qmail.eml'), 'utf8');
    const b = readFileSync(path.join(fixtures, 'exim.eml'), 'utf8');
    const text = `From MAILER-DAEMON Mon Mar  3 10:00:00 2025\n${a}\nFrom MAILER-DAEMON Mon Mar  3 10:00:01 2025\n${b}`;
    writeFileSync(mbox, text.replace(/\r?\n/g, '\r'));
    const { code, out } = await run(['bounce', mbox, '--path-prefix', `${dir}/`]);
    expect(code).toBe(0);
    const rows = out.trim().split('\n').map((l) => JSON.parse(l) as { file: string; results: { recipient: string }[] });
    expect(rows.map((r) => [r.file, r.results.map((x) => x.recipient)])).toEqual([
      ['macbox#1', ['nobody@receiver.test']],
      ['macbox#2', ['over@receiver.test']],
    ]);
  });

  it('reports unreadable paths and exits 1', async () => {
    const { code, err, out } = await run(['bounce', '/nonexistent/mailroom/path']);
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toContain('cannot read /nonexistent/mailroom/path');
  });

  it('prints help with --help and exits 2 on usage errors', async () => {
    expect((await run(['--help'])).out).toContain('Usage: nestjs-mailroom bounce');
    expect((await run(['bounce'])).code).toBe(2);
    expect((await run(['frobnicate'])).code).toBe(2);
    expect((await run(['bounce', 'x', '--bogus'])).code).toBe(2);
  });

  it('reads a message from standard input when the path is "-"', async () => {
    const dsn = readFileSync(path.join(fixtures, 'postfix-dsn.eml'));
    const { code, out } = await run(['bounce', '-'], dsn);
    expect(code).toBe(0);
    expect(JSON.parse(out.trim())).toMatchObject({ file: '-', results: [{ recipient: 'ghost@receiver.test', status: '5.1.1' }] });
  });

  it('reads an mbox from standard input, message by message', async () => {
    const a = readFileSync(path.join(fixtures, 'qmail.eml'), 'utf8');
    const b = readFileSync(path.join(fixtures, 'exim.eml'), 'utf8');
    const mbox = Buffer.from(`From MAILER-DAEMON Mon Mar  3 10:00:00 2025\n${a}\nFrom MAILER-DAEMON Mon Mar  3 10:00:01 2025\n${b}`);
    const { out } = await run(['bounce', '-'], mbox);
    expect(out.trim().split('\n').map((l) => (JSON.parse(l) as { file: string }).file)).toEqual(['-#1', '-#2']);
  });

  it('prints the package version with --version and -V', async () => {
    const { version } = JSON.parse(readFileSync(fileURLToPath(new URL('../../../package.json', import.meta.url)), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const { code, out } = await run([flag]);
      expect(code).toBe(0);
      expect(out).toBe(`${version}\n`);
    }
  });
});
