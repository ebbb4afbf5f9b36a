import 'reflect-metadata';
import { HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import {
  MailerConfigurationError,
  MailerHealthIndicator,
  MailerModule,
  MailerService,
  TransportError,
  type MailerModuleOptions,
  type MailEvent,
  type ResolvedTransport,
  type TransportResolver,
} from '../../../lib/index.js';
import { FakeClock } from '../../unit/retry/fake-clock.js';
import { onCleanup, smtpSink } from '../../support/cleanup.js';
import { NestLogs } from '../../support/nest-logs.js';
import type { SmtpSink } from '../../support/smtp-sink.js';

/*
 * Transports added while the application runs, and chosen per send by a resolver: each tenant's
 * mail reaches its own SMTP server with its own credentials, a bounded number of pools stays open,
 * and a transport taken out of service lets its sends finish before its connections close.
 */

const SECRET = 'T3nantS3cretPassw0rd';

interface Booted {
  mailer: MailerService;
  events: MailEvent[];
  logs: NestLogs;
}

async function boot(options: Partial<MailerModuleOptions>, sink?: SmtpSink): Promise<Booted> {
  const logs = new NestLogs();
  const moduleRef = await Test.createTestingModule({
    imports: [MailerModule.forRoot({
      ...(options.transports ? {} : { transport: sink ? `${sink.url}?tlsMode=none` : 'memory://' }),
      defaults: { from: 'Platform <mail@platform.example>' },
      ...options,
    } as MailerModuleOptions)],
  }).setLogger(logs).compile();
  await moduleRef.init();
  onCleanup(() => moduleRef.close());
  const mailer = moduleRef.get(MailerService);
  const events: MailEvent[] = [];
  mailer.events$.subscribe((e) => events.push(e));
  return { mailer, events, logs };
}

/** A tenant's own SMTP server, which takes mail only with the tenant's credentials. */
async function tenantSink(user: string, options: Parameters<typeof smtpSink>[0] = {}): Promise<{ sink: SmtpSink; url: string }> {
  const sink = await smtpSink({ auth: { user, pass: SECRET }, ...options });
  return { sink, url: `smtp://${user}:${SECRET}@127.0.0.1:${sink.port}?tlsMode=none` };
}

const mail = (to: string, subject = 'Your order') => ({ to, subject, text: 'Thanks!' });

/** Everything a test saw, as text: no secret may be in it. */
function seen(booted: Booted, ...more: unknown[]): string {
  const describeValue = (value: unknown): string => {
    if (value instanceof Error) return `${value.name}: ${value.message}\n${value.stack ?? ''}\n${describeValue((value as { cause?: unknown }).cause)}`;
    try {
      return JSON.stringify(value, (_key, v: unknown) => (v instanceof Error ? describeValue(v) : v));
    } catch {
      return String(value);
    }
  };
  return [...booted.logs.lines.map((l) => l.message), ...booted.events.map(describeValue), ...more.map(describeValue)].join('\n');
}

const failure = (promise: Promise<unknown>) => promise.then(() => { throw new Error('expected a rejection'); }, (e: unknown) => e as Error);

describe('addTransport: tenants added while the application runs', () => {
  it('sends each tenant\'s mail through its own SMTP server, with its own credentials', async () => {
    const platform = await smtpSink();
    const acme = await tenantSink('acme');
    const globex = await tenantSink('globex');
    const booted = await boot({}, platform);
    const { mailer, events } = booted;
    mailer.addTransport('acme', acme.url);
    mailer.addTransport('globex', { host: '127.0.0.1', port: globex.sink.port, tlsMode: 'none', auth: { user: 'globex', pass: SECRET } });
    expect(mailer.transportNames).toEqual(['default', 'acme', 'globex']);

    const a = await mailer.send(mail('ada@example.org'), { transport: 'acme' });
    const g = await mailer.use('globex').send(mail('grace@example.org', 'Globex invoice'));
    const p = await mailer.send(mail('linus@example.org', 'Platform news'));

    expect([a.transport, g.transport, p.transport]).toEqual(['acme', 'globex', 'default']);
    const [toAcme] = await acme.sink.waitFor(1);
    const [toGlobex] = await globex.sink.waitFor(1);
    const [toPlatform] = await platform.waitFor(1);
    expect(toAcme!.user).toBe('acme');
    expect(toAcme!.parsed.to).toMatchObject({ value: [{ address: 'ada@example.org' }] });
    expect(toGlobex!.user).toBe('globex');
    expect(toGlobex!.parsed.subject).toBe('Globex invoice');
    expect(toPlatform!.parsed.subject).toBe('Platform news');
    expect([acme.sink.received, globex.sink.received, platform.received].map((r) => r.length)).toEqual([1, 1, 1]);

    const sent = events.filter((e) => e.type === 'mail.sent').map((e) => (e as { result: { transport: string } }).result.transport);
    expect(sent).toEqual(['acme', 'globex', 'default']);
    await mailer.verify('acme');
    expect(seen(booted)).not.toContain(SECRET);
  });

  it('checks what it is given as start-up does, with the same errors, and adds nothing when they fail', async () => {
    const cases: Array<[string, unknown]> = [
      ['an unknown scheme', `smtpx://acme:${SECRET}@smtp.acme.example`],
      ['an unknown SMTP option', `smtp://acme:${SECRET}@smtp.acme.example:587?requiretls=true`],
      ['implicit TLS on 587', `smtps://acme:${SECRET}@smtp.acme.example:587`],
      ['an unknown provider option', `postmark+api://${SECRET}@default?strem=outbound`],
      ['a mistyped key in SMTP options', { host: 'smtp.acme.example', auth: { user: 'acme', pass: SECRET }, requiretls: true }],
      ['no configuration', ''],
    ];
    const { mailer } = await boot({});
    for (const [what, config] of cases) {
      const atStartup = await failure(boot({ transports: { default: 'memory://', acme: config as string } }));
      const atRunTime = (() => {
        try {
          mailer.addTransport('acme', config as string);
        } catch (error) {
          return error as Error;
        }
        throw new Error(`${what}: addTransport accepted it`);
      })();
      expect(atRunTime, what).toBeInstanceOf(MailerConfigurationError);
      expect(atRunTime.message, what).toBe(atStartup.message);
      expect(atRunTime.message, what).not.toContain(SECRET);
      expect(mailer.transportNames, what).toEqual(['default']);
    }
    const badName = await failure(boot({ transports: { default: 'memory://', 'acme corp': 'memory://' } }));
    expect(() => mailer.addTransport('acme corp', 'memory://')).toThrow(badName.message);
  });

  it('refuses a name that is taken, options it does not know, and the removal of the default transport', async () => {
    const { mailer } = await boot({});
    mailer.addTransport('acme', 'memory://');
    expect(() => mailer.addTransport('acme', 'memory://')).toThrow(/a transport named "acme" exists already; removeTransport\("acme"\) first/);
    expect(() => mailer.addTransport('globex', 'memory://', { retrys: 2 } as never)).toThrow(/addTransport\("globex"\): unknown option "retrys". Did you mean "retry"\?/);
    expect(() => mailer.addTransport('globex', 'memory://', { retry: { limt: 1 } } as never)).toThrow(/addTransport\("globex"\): retry: unknown option "limt". Did you mean "limit"\?/);
    expect(() => mailer.addTransport('globex', 'memory://', { rateLimit: { perSecnd: 1 } } as never)).toThrow(/rateLimit: unknown option "perSecnd"/);
    expect(() => mailer.addTransport('globex', 'memory://', { suppressionScope: 'a:b' })).toThrow(/suppressionScope: a suppression scope is 1 to 100 letters/);
    expect(mailer.transportNames).toEqual(['default', 'acme']);
    await expect(mailer.removeTransport('default')).rejects.toThrow(/"default" is the default transport.*cannot be removed/);
    await expect(mailer.removeTransport('nobody')).rejects.toThrow(/removeTransport\("nobody"\): no transport named "nobody"/);
    await mailer.removeTransport('acme');
    await expect(mailer.send(mail('ada@example.org'), { transport: 'acme' })).rejects.toThrow(/No transport named "acme"/);
  });

  it('removal while a send is in flight: the send completes, then the pool closes; later sends to the name fail', async () => {
    let letGo!: () => void;
    const held = new Promise<void>((resolve) => (letGo = resolve));
    const acme = await tenantSink('acme', { beforeAnswer: (count) => (count === 1 ? held : undefined) });
    const { mailer } = await boot({});
    mailer.addTransport('acme', acme.url);

    const sending = mailer.send(mail('ada@example.org'), { transport: 'acme' });
    await acme.sink.waitFor(1);
    let removed = false;
    const removal = mailer.removeTransport('acme').then(() => (removed = true));

    const later = await failure(mailer.send(mail('grace@example.org'), { transport: 'acme' }));
    expect(later).toBeInstanceOf(MailerConfigurationError);
    expect(later.message).toMatch(/No transport named "acme"/);
    expect(mailer.transportNames).toEqual(['default']);
    // The message is on the server, unanswered: the connection stays and removal waits for it.
    await new Promise((r) => setImmediate(r));
    expect(removed).toBe(false);
    expect(acme.sink.openConnections).toBe(1);

    letGo();
    const result = await sending;
    expect(result).toMatchObject({ transport: 'acme', accepted: ['ada@example.org'] });
    await removal;
    await acme.sink.until(() => acme.sink.openConnections === 0, 'the pool to close');
    expect(acme.sink.received).toHaveLength(1);
  });

  it('per transport: its own retry and rate limit over the module\'s', async () => {
    // Each server turns away the first attempt to each grey… address, as greylisting does.
    const greylisting = () => {
      const seenOnce = new Set<string>();
      return { rcpt: (address: string) => (address.startsWith('grey') && !seenOnce.has(address) && seenOnce.add(address) ? { code: 451, message: '4.7.1 Greylisted, try again later' } : undefined) };
    };
    const acme = await tenantSink('acme', greylisting());
    const globex = await tenantSink('globex', greylisting());
    const clock = new FakeClock();
    const { mailer } = await boot({ retry: { limit: 1, clock, jitter: 'none', backoff: { initial: 10 } }, rateLimit: { clock } });
    mailer.addTransport('acme', acme.url, { retry: false });
    mailer.addTransport('globex', globex.url, { rateLimit: { perSecond: 2, burst: 1 } });

    const once = await failure(mailer.send(mail('grey1@example.org'), { transport: 'acme' }));
    expect(once).toBeInstanceOf(TransportError);
    expect((once as TransportError).attempts).toHaveLength(1);
    const retried = await mailer.send(mail('grey2@example.org'), { transport: 'globex' });
    expect(retried.attempts.map((a) => a.ok)).toEqual([false, true]);
    // The backoff (10 ms), then the rest of the half second the bucket makes the retry wait for a token.
    expect(clock.sleeps).toEqual([10, 490]);

    // The default transport keeps the module's settings: no rate, one retry.
    clock.sleeps.length = 0;
    for (let i = 0; i < 3; i++) await mailer.send(mail(`user${i}@example.org`));
    expect(clock.sleeps).toEqual([]);
  });

  it('a suppression scope per tenant: what one tenant learns holds back only its own sends', async () => {
    const userUnknown = { rcpt: (address: string) => (address.startsWith('gone') ? { code: 550, message: `5.1.1 <${address}>: Recipient address rejected: User unknown` } : undefined) };
    const acme = await tenantSink('acme', userUnknown);
    const globex = await tenantSink('globex');
    const { mailer } = await boot({});
    mailer.addTransport('acme', acme.url, { suppressionScope: 'acme' });
    mailer.addTransport('globex', globex.url, { suppressionScope: 'globex' });

    await expect(mailer.send(mail('gone@example.org'), { transport: 'acme' })).rejects.toBeInstanceOf(TransportError);
    expect(await mailer.suppressionsFor('acme').has('gone@example.org')).toBe(true);
    expect(await mailer.suppressionsFor('globex').has('gone@example.org')).toBe(false);
    expect(await mailer.suppressions!.has('gone@example.org')).toBe(false);

    const again = await mailer.send(mail('gone@example.org'), { transport: 'acme' });
    expect(again.accepted).toEqual([]);
    expect(again.rejected[0]).toMatchObject({ address: 'gone@example.org', classification: { reason: 'suppressed' } });
    const elsewhere = await mailer.send(mail('gone@example.org'), { transport: 'globex' });
    expect(elsewhere.accepted).toEqual(['gone@example.org']);
    expect(acme.sink.received).toHaveLength(0);
    expect(globex.sink.received).toHaveLength(1);

    const { mailer: unlisted } = await boot({ suppression: false });
    expect(() => unlisted.addTransport('acme', acme.url, { suppressionScope: 'acme' })).toThrow(/suppressionScope needs the suppression list, which is turned off/);
    const store = { add: async () => undefined, addMany: async () => [], has: async () => false, filter: async (a: readonly string[]) => ({ allowed: [...a], suppressed: [] }), get: async () => undefined, remove: async () => false, list: async () => ({ entries: [] }), count: async () => 0, close: async () => undefined };
    const { mailer: custom } = await boot({ suppression: { store: store as never } });
    expect(() => custom.addTransport('acme', acme.url, { suppressionScope: 'acme' })).toThrow(/has no forScope\(\), so it cannot keep a list per scope/);
  });
});

describe('the health indicator', () => {
  it('checks a tenant\'s transport by its name, added or opened by the resolver', async () => {
    const acme = await tenantSink('acme');
    const globex = await tenantSink('globex');
    const moduleRef = await Test.createTestingModule({
      imports: [
        TerminusModule.forRoot({ logger: false }),
        MailerModule.forRoot({
          transport: 'memory://',
          defaults: { from: 'mail@platform.example' },
          transportResolver: () => ({ name: 'globex', transport: `smtp://globex:wrong-${SECRET}@127.0.0.1:${globex.sink.port}?tlsMode=none` }),
        }),
      ],
    }).compile();
    await moduleRef.init();
    onCleanup(() => moduleRef.close());
    const mailer = moduleRef.get(MailerService);
    const health = moduleRef.get(HealthCheckService);
    const indicator = moduleRef.get(MailerHealthIndicator);
    mailer.addTransport('acme', acme.url);

    const up = await health.check([() => indicator.isHealthy('acme', { transport: 'acme' })]);
    expect(up.info?.acme).toMatchObject({ status: 'up', transport: 'acme', kind: 'smtp' });
    await expect(mailer.send(mail('ada@example.org'))).rejects.toMatchObject({ failure: 'auth', transport: 'globex' });
    const down = await health.check([() => indicator.isHealthy('globex', { transport: 'globex' })]).then(() => undefined, (e: { getResponse(): { error: Record<string, unknown> } }) => e.getResponse().error);
    expect(down?.globex).toMatchObject({ status: 'down', transport: 'globex', failure: 'auth' });
    expect(JSON.stringify(down)).not.toContain(SECRET);
  });
});

describe('transportResolver: a transport per send', () => {
  const tenants = new Map<string, ResolvedTransport>();
  const resolver: TransportResolver = (_mail, { tenant }) => (tenant ? tenants.get(tenant) : undefined);

  it('sends for each tenant through its transport, opened once and kept for its next sends', async () => {
    const acme = await tenantSink('acme');
    const globex = await tenantSink('globex');
    tenants.set('acme', { name: 'acme', transport: acme.url });
    tenants.set('globex', { name: 'globex', transport: globex.url });
    const booted = await boot({ transportResolver: resolver, transports: { default: 'memory://', bulk: 'memory://' } });
    const { mailer, events } = booted;

    for (let i = 0; i < 3; i++) await mailer.send(mail(`ada${i}@example.org`), { tenant: 'acme' });
    const g = await mailer.send(mail('grace@example.org'), { tenant: 'globex' });
    const unknown = await mailer.send(mail('linus@example.org'), { tenant: 'initech', transport: 'bulk' });
    const none = await mailer.send(mail('linus@example.org'));

    expect(g.transport).toBe('globex');
    expect([unknown.transport, none.transport]).toEqual(['bulk', 'default']);
    await acme.sink.waitFor(3);
    await globex.sink.waitFor(1);
    // One pool for the three mails of Acme.
    expect(acme.sink.connections).toHaveLength(1);
    expect(events.filter((e) => e.type === 'mail.sending').map((e) => (e as { transport: string }).transport)).toEqual(['acme', 'acme', 'acme', 'globex', 'bulk', 'default']);
    expect(mailer.getTransport('acme').kind).toBe('smtp');
    expect(mailer.transportNames).toEqual(['default', 'bulk']);
    expect(seen(booted)).not.toContain(SECRET);
  });

  it('answers may be URLs and options; a name is derived from a keyed hash, never from the secret', async () => {
    const acme = await tenantSink('acme');
    const booted = await boot({ transportResolver: () => acme.url });
    const first = await booted.mailer.send(mail('ada@example.org'));
    const second = await booted.mailer.send(mail('grace@example.org'));
    expect(first.transport).toMatch(/^resolved-[0-9a-f]{12}$/);
    expect(second.transport).toBe(first.transport);
    expect(acme.sink.connections).toHaveLength(1);
    expect(seen(booted, first, second)).not.toContain(SECRET);
  });

  it('an answer is checked as start-up configuration is; a wrong one fails that send and opens nothing', async () => {
    let answer: unknown;
    const booted = await boot({ transportResolver: () => answer as string });
    const { mailer } = booted;
    const errors: Error[] = [];
    for (const [config, pattern] of [
      [{ name: 'acme', transport: `smtp://acme:${SECRET}@smtp.acme.example:587?requiretls=true` }, /^transport "acme": unknown SMTP URL option "requiretls". Did you mean "requireTLS"\?/],
      [{ name: 'acme', transport: 'memory://', retrys: 1 }, /transportResolver: the answer: unknown option "retrys". Did you mean "retry"\?/],
      [{ name: 'acme corp', transport: 'memory://' }, /Transport name "acme corp" may use only/],
      [{ name: 'default', transport: 'memory://' }, /the name "default" is a configured or added transport's/],
      ['initech', /transportResolver answered "initech", which names no transport/],
      [42, /expected a transport name, a transport URL, an options object or \{ name, transport \}, got a number/],
      [mailer.getTransport(), /answered a Transport instance; add it once with addTransport/],
    ] as Array<[unknown, RegExp]>) {
      answer = config;
      const error = await failure(mailer.send(mail('ada@example.org')));
      expect(error).toBeInstanceOf(MailerConfigurationError);
      expect(error.message).toMatch(pattern);
      errors.push(error);
    }
    expect(() => mailer.getTransport('acme')).toThrow(/No transport named "acme"/);
    expect(seen(booted, ...errors)).not.toContain(SECRET);
    await expect(boot({ transportCache: { max: 2 } })).rejects.toThrow(/transportCache bounds the transports opened for transportResolver's answers/);
    await expect(boot({ transportResolver: () => undefined, transportCache: { max: 0 } })).rejects.toThrow(/transportCache.max must be a whole number, 1 or more, got 0/);
    await expect(boot({ transportResolver: () => undefined, transportCache: { idleTimout: 5 } as never })).rejects.toThrow(/unknown option "idleTimout". Did you mean "idleTimeout"\?/);
    const { mailer: plain } = await boot({});
    await expect(plain.send(mail('ada@example.org'), { tenant: 'acme' })).rejects.toThrow(/a tenant was given, but no transportResolver is configured/);
  });

  it('past transportCache.max, the least recently used transport is closed', async () => {
    const acme = await tenantSink('acme');
    const globex = await tenantSink('globex');
    tenants.set('acme', { name: 'acme', transport: acme.url });
    tenants.set('globex', { name: 'globex', transport: globex.url });
    const { mailer, logs } = await boot({ transportResolver: resolver, transportCache: { max: 1 } });

    await mailer.send(mail('ada@example.org'), { tenant: 'acme' });
    expect(acme.sink.openConnections).toBe(1);
    await mailer.send(mail('grace@example.org'), { tenant: 'globex' });
    await acme.sink.until(() => acme.sink.openConnections === 0, "Acme's pool to close");
    expect(globex.sink.openConnections).toBe(1);
    expect(() => mailer.getTransport('acme')).toThrow(/No transport named "acme"/);

    // Acme again: a new pool, and Globex's closes in turn.
    await mailer.send(mail('ada@example.org'), { tenant: 'acme' });
    await globex.sink.until(() => globex.sink.openConnections === 0, "Globex's pool to close");
    expect(acme.sink.connections).toHaveLength(2);
    expect(acme.sink.received).toHaveLength(2);
    expect(logs.lines.map((l) => l.message)).toContain('Transport "acme" closed: more than 1 transports are open (transportCache.max).');
  });

  it('an evicted transport finishes the send it has in flight before its pool closes', async () => {
    let letGo!: () => void;
    const held = new Promise<void>((resolve) => (letGo = resolve));
    const acme = await tenantSink('acme', { beforeAnswer: () => held });
    const globex = await tenantSink('globex');
    tenants.set('acme', { name: 'acme', transport: acme.url });
    tenants.set('globex', { name: 'globex', transport: globex.url });
    const { mailer } = await boot({ transportResolver: resolver, transportCache: { max: 1 } });

    const sending = mailer.send(mail('ada@example.org'), { tenant: 'acme' });
    await acme.sink.waitFor(1);
    await mailer.send(mail('grace@example.org'), { tenant: 'globex' });
    await new Promise((r) => setImmediate(r));
    expect(acme.sink.openConnections).toBe(1);
    letGo();
    expect(await sending).toMatchObject({ transport: 'acme', accepted: ['ada@example.org'] });
    await acme.sink.until(() => acme.sink.openConnections === 0, "Acme's pool to close");
  });

  it('a transport unused for transportCache.idleTimeout is closed, and opened again when needed', async () => {
    const acme = await tenantSink('acme');
    tenants.set('acme', { name: 'acme', transport: acme.url });
    const { mailer } = await boot({ transportResolver: resolver, transportCache: { idleTimeout: 50 } });
    await mailer.send(mail('ada@example.org'), { tenant: 'acme' });
    // Looking a transport up is no use of it.
    expect(mailer.getTransport('acme').name).toBe('acme');
    await acme.sink.until(() => acme.sink.connections.length === 1 && acme.sink.openConnections === 0, 'the idle pool to close');
    expect(() => mailer.getTransport('acme')).toThrow(/No transport named "acme"/);
    await mailer.send(mail('grace@example.org'), { tenant: 'acme' });
    expect(acme.sink.received).toHaveLength(2);
  });

  it('a changed configuration for a name replaces the open transport; removeTransport closes one at once', async () => {
    const old = await tenantSink('acme');
    const moved = await tenantSink('acme');
    tenants.set('acme', { name: 'acme', transport: old.url });
    const { mailer } = await boot({ transportResolver: resolver });
    await mailer.send(mail('ada@example.org'), { tenant: 'acme' });
    tenants.set('acme', { name: 'acme', transport: moved.url });
    await mailer.send(mail('grace@example.org'), { tenant: 'acme' });
    await old.sink.until(() => old.sink.openConnections === 0, 'the old pool to close');
    expect(moved.sink.received).toHaveLength(1);
    await mailer.removeTransport('acme');
    await moved.sink.until(() => moved.sink.openConnections === 0, 'the pool to close');
    expect(() => mailer.getTransport('acme')).toThrow(/No transport named "acme"/);
  });

  it('sendBatch sends each mail through its tenant\'s transport; a mail the resolver fails on fails alone', async () => {
    const acme = await tenantSink('acme');
    const globex = await tenantSink('globex');
    tenants.set('acme', { name: 'acme', transport: acme.url, suppressionScope: 'acme' });
    tenants.set('globex', { name: 'globex', transport: globex.url });
    // The tenant read from the mail itself: metadata travels with it, through a queue too.
    const { mailer } = await boot({
      transportResolver: (m, context) => {
        if (m.subject === 'boom') throw new Error('tenant lookup failed');
        return resolver(m, { ...context, tenant: m.metadata?.tenant ?? context.tenant });
      },
    });
    await mailer.suppressionsFor('acme').add({ address: 'held@example.org', reason: 'userunknown', source: 'manual' });
    const of = (tenant: string, to: string, subject = 'Your order') => ({ ...mail(to, subject), metadata: { tenant } });
    const outcomes = await mailer.sendBatch([
      of('acme', 'ada@example.org'),
      of('globex', 'grace@example.org'),
      of('acme', 'boom@example.org', 'boom'),
      of('acme', 'held@example.org'),
      of('globex', 'held@example.org'),
      mail('linus@example.org'),
    ]);
    expect(outcomes.map((o) => o.ok)).toEqual([true, true, false, true, true, true]);
    expect(outcomes.map((o) => (o.ok ? o.result.transport : o.error.message))).toEqual(['acme', 'globex', 'tenant lookup failed', 'acme', 'globex', 'default']);
    expect(outcomes[3]).toMatchObject({ ok: true, result: { accepted: [], rejected: [{ address: 'held@example.org' }] } });
    expect(outcomes[4]).toMatchObject({ ok: true, result: { accepted: ['held@example.org'] } });
    expect((await acme.sink.waitFor(1)).map((m) => m.envelope.to)).toEqual([['ada@example.org']]);
    expect((await globex.sink.waitFor(2)).map((m) => m.envelope.to).sort()).toEqual([['grace@example.org'], ['held@example.org']]);
  });
});
