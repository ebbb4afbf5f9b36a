import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { MailerService, type MemoryTransport } from 'nestjs-mailroom';
import { AppModule } from '../src/app.module.js';

describe('AppModule (e2e)', () => {
  let app: INestApplication;

  beforeEach(async () => {
    delete process.env.MAILER_URL;
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = moduleRef.createNestApplication();
    await app.init();
  });

  afterEach(() => app.close());

  it('POST /welcome sends the welcome mail through memory://', async () => {
    const response = await request(app.getHttpServer()).post('/welcome').send({ email: 'ada@example.org', name: 'Ada' }).expect(201);
    expect(response.body.accepted).toEqual(['ada@example.org']);
    const sent = app.get(MailerService).getTransport<MemoryTransport>().sent;
    expect(sent.map((mail) => [mail.messageId, mail.subject])).toEqual([[response.body.messageId, 'Welcome to Mailroom ESM, Ada']]);
  });

  it('POST /welcome answers 400 for a malformed address, and nothing is sent', async () => {
    await request(app.getHttpServer()).post('/welcome').send({ email: 'not an address', name: 'Ada' }).expect(400);
    expect(app.get(MailerService).getTransport<MemoryTransport>().sent).toEqual([]);
  });
});
