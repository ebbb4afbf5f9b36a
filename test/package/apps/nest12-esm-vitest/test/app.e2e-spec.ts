import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { Mailbox, MailerTestingModule } from 'nestjs-mailroom/testing';
import { AppModule } from '../src/app.module.js';

describe('AppModule (e2e)', () => {
  let app: INestApplication;
  let mailbox: Mailbox;

  beforeEach(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule, MailerTestingModule] }).compile();
    app = moduleRef.createNestApplication();
    await app.init();
    mailbox = app.get(Mailbox);
  });

  afterEach(() => app.close());

  it('POST /welcome sends the welcome mail', async () => {
    const response = await request(app.getHttpServer()).post('/welcome').send({ email: 'ada@example.org', name: 'Ada' }).expect(201);
    expect(response.body.accepted).toEqual(['ada@example.org']);
    const mail = mailbox.expectSent({ to: 'ada@example.org', subject: 'Welcome to Mailroom ESM, Ada' });
    expect(mail.messageId).toBe(response.body.messageId);
  });

  it('POST /welcome answers 400 for a malformed address, and nothing is sent', async () => {
    await request(app.getHttpServer()).post('/welcome').send({ email: 'not an address', name: 'Ada' }).expect(400);
    mailbox.expectNotSent();
  });
});
