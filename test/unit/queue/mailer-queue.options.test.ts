import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import { MailerConfigurationError } from '../../../lib/errors/index.js';
import {
  BULLMQ_INSTALL, importBullmq, MailerQueueModule, type BullmqModule, type MailerQueueModuleOptions,
} from '../../../lib/queue/index.js';
import { checkMailerQueueOptions } from '../../../lib/queue/mailer-queue.options.js';

const url = 'redis://127.0.0.1:6379';
const missing = () => Promise.reject(Object.assign(new Error("Cannot find package 'bullmq' imported from /app/x.js"), { code: 'ERR_MODULE_NOT_FOUND' }));

describe('checkMailerQueueOptions', () => {
  it('accepts the documented shapes', () => {
    for (const options of [
      { connection: { url } },
      { connection: { url: 'rediss://user:pw@redis.example.com:6380/2' } },
      { connection: { host: '127.0.0.1', port: 6379 } },
      { connection: { client: { duplicate: () => ({}), quit: async () => 'OK', disconnect: () => undefined } } },
      { connection: { url }, queueName: 'mail-eu', prefix: 'app', mode: 'producer', concurrency: 20, rateLimit: { max: 10, duration: 1_000 },
        removeOnComplete: { age: 60 }, removeOnFail: false, retry: { limit: 5 }, shutdownTimeout: 0, lockDuration: 5_000,
        stalledInterval: 1_000, maxStalledCount: 0, transport: 'bulk', enqueueTimeout: 2_000 },
    ] as MailerQueueModuleOptions[]) expect(() => checkMailerQueueOptions(options)).not.toThrow();
  });

  it.each([
    ['no connection', {}, /connection is required/],
    ['a non-redis URL', { connection: { url: 'http://x' } }, /redis:\/\//],
    ['a client that is no ioredis client', { connection: { client: {} } }, /connection\.client/],
    ['a queue name with ":"', { connection: { url }, queueName: 'a:b' }, /queueName/],
    ['an unknown mode', { connection: { url }, mode: 'consumer' }, /mode must be/],
    ['concurrency 0', { connection: { url }, concurrency: 0 }, /concurrency/],
    ['an enqueue timeout of no time', { connection: { url }, enqueueTimeout: 0 }, /enqueueTimeout must be a whole number of milliseconds/],
    ['a rate limit without duration', { connection: { url }, rateLimit: { max: 2 } }, /rateLimit/],
    ['a bad removeOnComplete', { connection: { url }, removeOnComplete: { ttl: 5 } }, /removeOnComplete/],
    ['a negative shutdown timeout', { connection: { url }, shutdownTimeout: -1 }, /shutdownTimeout/],
    ['a zero stalled interval', { connection: { url }, stalledInterval: 0 }, /stalledInterval/],
    ['a typo', { connection: { url }, concurency: 2 }, /unknown option "concurency". Did you mean "concurrency"\?/],
    ["BullMQ's limiter name", { connection: { url }, limiter: { max: 1, duration: 1 } }, /"limiter" is BullMQ's name; write rateLimit/],
    ["@nestjs-modules/mailer's job options", { connection: { url }, defaultJobOptions: { attempts: 3 } }, /"defaultJobOptions" is not read: attempts and backoff are retry/],
    ['a module extra in the options', { connection: { url }, isGlobal: true }, /"isGlobal" is a module extra/],
    ['settings next to a URL, which would not be read', { connection: { url, password: 'pw' } }, /connection: unknown option "password"/],
    ['a typo in the rate limit', { connection: { url }, rateLimit: { max: 2, duraton: 1000 } }, /rateLimit: unknown option "duraton". Did you mean "duration"\?/],
    ['a retry name from BullMQ', { connection: { url }, retry: { attempts: 3 } }, /"attempts" is written limit here/],
  ])('refuses %s', (_name, options, message) => {
    expect(() => checkMailerQueueOptions(options as never)).toThrow(MailerConfigurationError);
    expect(() => checkMailerQueueOptions(options as never)).toThrow(message);
  });
});

describe('loading bullmq', () => {
  it('loads the real package by default', async () => {
    const mod = await importBullmq();
    expect(typeof mod.Queue).toBe('function');
  });

  it('a missing package is a configuration error naming the install command', async () => {
    const error = await importBullmq(missing as () => Promise<BullmqModule>).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MailerConfigurationError);
    expect((error as Error).message).toBe(`MailerQueueModule needs bullmq: run \`${BULLMQ_INSTALL}\`.`);
    expect(BULLMQ_INSTALL).toBe('npm install bullmq ioredis');
  });

  it('other failures pass through; a loader returning something else is refused', async () => {
    await expect(importBullmq(() => Promise.reject(new SyntaxError('boom')))).rejects.toThrow('boom');
    await expect(importBullmq(async () => ({}) as BullmqModule)).rejects.toThrow(/did not return a module with Queue/);
  });

  it('the module fails at start-up, before touching Redis, when bullmq is missing', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [MailerQueueModule.forRoot({ connection: { url: 'redis://127.0.0.1:1' }, bullmq: missing as () => Promise<BullmqModule> })],
    }).compile();
    await expect(moduleRef.init()).rejects.toThrow(/npm install bullmq ioredis/);
  });

  it('bad options fail at start-up', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [MailerQueueModule.forRoot({ connection: { url }, concurrency: -1 })],
    }).compile();
    await expect(moduleRef.init()).rejects.toThrow(/MailerQueueModule: concurrency/);
  });
});
