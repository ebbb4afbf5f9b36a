import 'reflect-metadata';
import { ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Test, type TestingModule } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MailerConfigurationError, MailerHealthIndicator, MailerModule, MailerService } from '../../lib/index.js';
import { importTerminus } from '../../lib/nest/mailer.health.js';
import { POSTMARK_TOKEN, PostmarkFake } from '../support/provider-fakes/index.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';

let sink: SmtpSink;
let fake: PostmarkFake;
let deadPort: number;
let moduleRef: TestingModule;
let health: HealthCheckService;
let mail: MailerHealthIndicator;

beforeAll(async () => {
  sink = await startSmtpSink({ starttls: false, auth: { user: 'app', pass: 'right' } });
  fake = await new PostmarkFake().start();
  const stopped = await startSmtpSink({ starttls: false });
  deadPort = stopped.port;
  await stopped.stop();
  const pm = new URL(fake.url).host;
  moduleRef = await Test.createTestingModule({
    imports: [
      TerminusModule.forRoot({ logger: false }),
      MailerModule.forRoot({
        transport: `smtp://app:right@127.0.0.1:${sink.port}?tlsMode=none`,
        transports: {
          postmark: `postmark+api://${POSTMARK_TOKEN}@${pm}`,
          wrongKey: `postmark+api://not-the-token@${pm}`,
          down: `smtp://127.0.0.1:${deadPort}?tlsMode=none`,
          wrongPassword: `smtp://app:wrong@127.0.0.1:${sink.port}?tlsMode=none`,
          failover: `failover(smtp://127.0.0.1:${deadPort}?tlsMode=none postmark+api://${POSTMARK_TOKEN}@${pm})`,
          allDown: `failover(smtp://127.0.0.1:${deadPort}?tlsMode=none postmark+api://not-the-token@${pm})`,
        },
      }),
    ],
  }).compile();
  await moduleRef.init();
  health = moduleRef.get(HealthCheckService);
  mail = moduleRef.get(MailerHealthIndicator);
});

afterAll(async () => {
  await moduleRef?.close();
  await fake?.stop();
  await sink?.stop();
});

async function failing(check: Promise<unknown>): Promise<Record<string, Record<string, unknown>>> {
  const error = await check.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ServiceUnavailableException);
  const body = (error as ServiceUnavailableException).getResponse() as { status: string; error: Record<string, Record<string, unknown>> };
  expect(body.status).toBe('error');
  return body.error;
}

describe('MailerHealthIndicator with a real terminus HealthCheckService', () => {
  it('is up against a working SMTP server (connects and authenticates)', async () => {
    const result = await health.check([() => mail.isHealthy('mail')]);
    expect(result.status).toBe('ok');
    expect(result.info?.mail).toMatchObject({ status: 'up', transport: 'default', kind: 'smtp' });
  });

  it('is up against the provider fake', async () => {
    const result = await health.check([() => mail.isHealthy('postmark', { transport: 'postmark' })]);
    expect(result.info?.postmark).toMatchObject({ status: 'up', kind: 'postmark' });
    expect(fake.requests.some((r) => r.path === '/server')).toBe(true);
  });

  it('is down for a stopped server', async () => {
    const error = await failing(health.check([() => mail.isHealthy('mail', { transport: 'down' })]));
    expect(error.mail).toMatchObject({ status: 'down', transport: 'down', failure: 'connection' });
  });

  it('is down for a 401 from the fake, without showing the key', async () => {
    const error = await failing(health.check([() => mail.isHealthy('mail', { transport: 'wrongKey' })]));
    expect(error.mail).toMatchObject({ status: 'down', failure: 'auth', statusCode: 401 });
    expect(JSON.stringify(error)).not.toContain('not-the-token');
  });

  it('is down for a refused SMTP password, without showing it', async () => {
    const error = await failing(health.check([() => mail.isHealthy('mail', { transport: 'wrongPassword' })]));
    expect(error.mail).toMatchObject({ status: 'down', failure: 'auth', responseCode: 535 });
    expect(JSON.stringify(error)).not.toContain('wrong@');
  });

  it('is down when verify() does not answer within the timeout', async () => {
    fake.failNext({ hang: true });
    const started = Date.now();
    const error = await failing(health.check([() => mail.isHealthy('mail', { transport: 'postmark', timeout: 200 })]));
    expect(error.mail).toMatchObject({ status: 'down', failure: 'timeout' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('a failover is up while one transport verifies, and lists each', async () => {
    const result = await health.check([() => mail.isHealthy('mail', { transport: 'failover' })]);
    expect(result.info?.mail).toMatchObject({ status: 'up', kind: 'failover', transports: { 'failover[0]': 'down', 'failover[1]': 'up' } });
    const error = await failing(health.check([() => mail.isHealthy('mail', { transport: 'allDown' })]));
    expect(error.mail).toMatchObject({ status: 'down', transports: { 'allDown[0]': 'down', 'allDown[1]': 'down' } });
  });

  it('works without TerminusModule in the application', async () => {
    const bare = await Test.createTestingModule({ imports: [MailerModule.forRoot({ transport: 'memory://' })] }).compile();
    await bare.init();
    try {
      const result = await bare.get(MailerHealthIndicator).isHealthy('mail');
      expect(result.mail.status).toBe('up');
      expect(bare.get(MailerService).transportNames).toEqual(['default']);
    } finally {
      await bare.close();
    }
  });

  it('a missing @nestjs/terminus is a configuration error that names the install command', async () => {
    const error = await importTerminus('@nestjs/terminus-not-installed').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MailerConfigurationError);
    expect(String(error)).toContain('npm install @nestjs/terminus');
  });
});
