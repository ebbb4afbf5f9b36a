import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { createTransport } from '../../lib/transports/transport.config.js';
import {
  MAILGUN_DOMAIN, MAILGUN_KEY, MailgunFake, POSTMARK_TOKEN, PostmarkFake, RESEND_KEY, ResendFake,
  SENDGRID_KEY, SES_ACCESS_KEY_ID, SES_REGION, SES_SECRET_ACCESS_KEY, SendGridFake, SesFake,
  outgoingMail, type FakeHttpServer,
} from '../support/provider-fakes/index.js';
import { onCleanup } from '../support/cleanup.js';

const enc = encodeURIComponent;

function sdkInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('@aws-sdk/client-sesv2');
    return true;
  } catch {
    return false;
  }
}

interface Case {
  name: string;
  fake: () => FakeHttpServer;
  url: (host: string) => string;
  skip?: boolean;
}

const cases: Case[] = [
  { name: 'sendgrid', fake: () => new SendGridFake(), url: (h) => `sendgrid+api://${enc(SENDGRID_KEY)}@${h}` },
  { name: 'postmark', fake: () => new PostmarkFake(), url: (h) => `postmark+api://${enc(POSTMARK_TOKEN)}@${h}?messageStream=outbound` },
  { name: 'mailgun', fake: () => new MailgunFake(), url: (h) => `mailgun+api://${enc(MAILGUN_KEY)}:${enc(MAILGUN_DOMAIN)}@${h}?timeout=5000` },
  { name: 'resend', fake: () => new ResendFake(), url: (h) => `resend+api://${enc(RESEND_KEY)}@${h}` },
  {
    name: 'ses',
    fake: () => new SesFake(),
    // The secret holds "/" and "+": percent-encoded in the URL, decoded before signing.
    url: (h) => `ses+api://${enc(SES_ACCESS_KEY_ID)}:${enc(SES_SECRET_ACCESS_KEY)}@${h}?region=${SES_REGION}&configurationSetName=transactional`,
    skip: !sdkInstalled(),
  },
];

describe('transport URLs against the provider fakes', () => {
  it.each(cases.filter((c) => !c.skip))('$name: the URL alone configures a working transport', async ({ fake, url }) => {
    const server = await fake().start();
    onCleanup(() => server.stop());
    const transport = createTransport('default', url(new URL(server.url).host));
    onCleanup(() => transport.close());
    await transport.verify();
    const result = await transport.send(outgoingMail());
    expect(result.accepted).toEqual(['alice@example.com', 'bob@example.com']);
    expect(server.requests.length).toBeGreaterThanOrEqual(2);
  });
});
