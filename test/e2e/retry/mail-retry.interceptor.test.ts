import 'reflect-metadata';
import { Body, Controller, HttpCode, Injectable, Post, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { lastValueFrom, of, throwError } from 'rxjs';
import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import {
  MailCancelledError, MailerModule, MailerService, MailRetry, MailRetryInterceptor, StagingRedirectInterceptor,
  TransportError, type MailInterceptor, type MailerModuleOptions, type OutgoingMail,
} from '../../../lib/index.js';
import { RESEND_KEY, ResendFake } from '../../support/provider-fakes/index.js';
import { FakeClock } from '../../unit/retry/fake-clock.js';
import { onCleanup, smtpSink as sink } from '../../support/cleanup.js';

const clock = new FakeClock();
const calls: string[] = [];

@Controller('mail')
class MailController {
  constructor(private readonly mailer: MailerService) {}

  @Post('welcome')
  @HttpCode(200)
  @MailRetry({ clock, jitter: 'none', limit: 2 })
  async welcome(@Body() body: { to: string }) {
    calls.push(body.to);
    const result = await this.mailer.send({ to: body.to, subject: 'Welcome', text: 'Hello' });
    return { messageId: result.messageId };
  }

  @Post('boom')
  @MailRetry({ clock })
  boom() {
    calls.push('boom');
    throw new Error('not a mail error');
  }
}

async function app(options: MailerModuleOptions): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [MailerModule.forRoot({ defaults: { from: 'shop@example.com' }, retry: false, ...options })],
    controllers: [MailController],
  }).compile();
  const nest = moduleRef.createNestApplication({ logger: false });
  await nest.init();
  onCleanup(() => nest.close());
  return nest;
}

function reset(): void {
  calls.length = 0;
  clock.sleeps.length = 0;
}

describe('@MailRetry on a real Nest HTTP app', () => {
  it('transient, then success: 200, and the handler ran twice', async () => {
    reset();
    let rcpts = 0;
    const s = await sink({ rcpt: () => (++rcpts === 1 ? { code: 451, message: '4.7.1 Greylisted' } : undefined) });
    const nest = await app({ transport: `${s.url}?tlsMode=none` });
    const res = await request(nest.getHttpServer()).post('/mail/welcome').send({ to: 'ada@example.org' });
    expect(res.status).toBe(200);
    expect(calls).toEqual(['ada@example.org', 'ada@example.org']);
    expect(clock.sleeps).toEqual([1000]);
    const [mail] = await s.waitFor(1);
    expect(mail!.parsed.messageId).toBe(res.body.messageId);
  });

  it('permanent: 422 at once, the handler ran once', async () => {
    reset();
    const s = await sink({ rcpt: () => ({ code: 550, message: '5.1.1 User unknown' }) });
    const nest = await app({ transport: `${s.url}?tlsMode=none` });
    const res = await request(nest.getHttpServer()).post('/mail/welcome').send({ to: 'ghost@example.org' });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ statusCode: 422, code: 'MAILER_TRANSPORT', reason: 'userunknown' });
    expect(res.headers['retry-after']).toBeUndefined();
    expect(calls).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('an invalid mail is a 422 too, without a retry', async () => {
    reset();
    const nest = await app({ transport: 'memory://' });
    const res = await request(nest.getHttpServer()).post('/mail/welcome').send({ to: 'not an address' });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('MAILER_INVALID_MAIL');
    expect(calls).toHaveLength(1);
  });

  it('transient to the end: 503 with Retry-After, after limit + 1 runs', async () => {
    reset();
    const s = await sink({ rcpt: () => ({ code: 451, message: '4.7.1 Greylisted' }) });
    const nest = await app({ transport: `${s.url}?tlsMode=none` });
    const res = await request(nest.getHttpServer()).post('/mail/welcome').send({ to: 'ada@example.org' });
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('4');
    expect(res.body).toMatchObject({ statusCode: 503, code: 'MAILER_TRANSPORT', retryAfter: 4 });
    expect(calls).toHaveLength(3);
    expect(clock.sleeps).toEqual([1000, 2000]);
  });

  it("an API's Retry-After beyond maxRetryAfter: no retry, 503 with the server's Retry-After", async () => {
    reset();
    const fake = await new ResendFake().start();
    onCleanup(() => fake.stop());
    fake.failNext({ status: 429, headers: { 'retry-after': '120' }, body: { statusCode: 429, name: 'rate_limit_exceeded', message: 'Too many requests.' } });
    const nest = await app({ transport: `resend+api://${RESEND_KEY}@${new URL(fake.url).host}` });
    const res = await request(nest.getHttpServer()).post('/mail/welcome').send({ to: 'ada@example.org' });
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('120');
    expect(calls).toHaveLength(1);
  });

  it('an error that is not about mail passes straight through', async () => {
    reset();
    const nest = await app({ transport: 'memory://' });
    const res = await request(nest.getHttpServer()).post('/mail/boom').send({});
    expect(res.status).toBe(500);
    expect(calls).toEqual(['boom']);
  });
});

describe('MailRetryInterceptor outside HTTP', () => {
  it('RPC: retries, then rethrows the TransportError as it is', async () => {
    const rpcClock = new FakeClock();
    class Handlers {
      @MailRetry({ clock: rpcClock, jitter: 'none', limit: 1 })
      handle() { return undefined; }
    }
    const interceptor = new MailRetryInterceptor(new Reflector());
    const context = new ExecutionContextHost([{ pattern: 'mail' }, {}], Handlers, Handlers.prototype.handle);
    context.setType('rpc');
    const error = new TransportError('greylisted', { transport: 'default', failure: 'connection' });
    let runs = 0;
    const failing = { handle: () => { runs++; return throwError(() => error); } };
    await expect(lastValueFrom(interceptor.intercept(context, failing))).rejects.toBe(error);
    expect(runs).toBe(2);
    expect(rpcClock.sleeps).toEqual([1000]);
    await expect(lastValueFrom(interceptor.intercept(context, { handle: () => of('ok') }))).resolves.toBe('ok');
  });

  it('refuses options that cannot work when the class is defined', () => {
    expect(() => MailRetry({ limit: -1 })).toThrow(/@MailRetry\(\): limit/);
  });
});

describe('mail interceptors (module option) through a real SMTP sink', () => {
  @Injectable()
  class AuditInterceptor implements MailInterceptor {
    readonly seen: string[] = [];
    intercept(mail: OutgoingMail, context: { transport: string }) {
      this.seen.push(`${context.transport}:${mail.subject}`);
      if (mail.subject === 'cancel me') return null;
      return { ...mail, headers: { ...mail.headers, 'X-Audited': 'yes' } };
    }
  }

  it('a staging redirect rewrites every recipient to the safe address and keeps the originals in a header', async () => {
    const s = await sink();
    const moduleRef = await Test.createTestingModule({
      imports: [MailerModule.forRoot({
        transport: `${s.url}?tlsMode=none`,
        defaults: { from: 'shop@example.com' },
        interceptors: [AuditInterceptor, new StagingRedirectInterceptor({ to: 'staging@acme.test', allow: ['@acme.test'] })],
      })],
    }).compile();
    await moduleRef.init();
    onCleanup(() => moduleRef.close());
    const mailer = moduleRef.get(MailerService);
    const events: string[] = [];
    mailer.events$.subscribe((e) => { if (e.type === 'mail.sending') events.push(e.mail.to.map((a) => a.address).join(',')); });

    const result = await mailer.send({ to: ['ada@example.org', 'dev@acme.test'], cc: 'carol@example.net', bcc: 'dave@example.net', subject: 'Hi', text: 'x' });
    const [mail] = await s.waitFor(1);
    expect(mail!.envelope.to).toEqual(['dev@acme.test', 'staging@acme.test']);
    expect(mail!.parsed.headers.get('x-original-to')).toBe('ada@example.org, carol@example.net, dave@example.net');
    expect(mail!.parsed.headers.get('x-audited')).toBe('yes');
    expect(mail!.parsed.headers.get('cc')).toBeUndefined();
    expect(result.accepted).toEqual(['dev@acme.test', 'staging@acme.test']);
    // Interceptors run before mail.sending: listeners see the rewritten mail.
    expect(events).toEqual(['dev@acme.test,staging@acme.test']);

    await expect(mailer.send({ to: 'ada@example.org', subject: 'cancel me', text: 'x' })).rejects.toBeInstanceOf(MailCancelledError);
    expect(s.received).toHaveLength(1);
  });

  it('an interceptor that is no MailInterceptor stops start-up', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [MailerModule.forRoot({ transport: 'memory://', interceptors: [{} as never] })],
    }).compile();
    await expect(moduleRef.init()).rejects.toThrow(/interceptors/);
    await moduleRef.close().catch(() => undefined);
  });
});
