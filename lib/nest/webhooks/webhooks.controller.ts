import {
  BadRequestException,
  Controller,
  HttpCode,
  Inject,
  InternalServerErrorException,
  NotFoundException,
  Param,
  PayloadTooLargeException,
  Post,
  Req,
  ServiceUnavailableException,
  UnauthorizedException,
  type Type,
} from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { DEFAULT_WEBHOOK_BODY_LIMIT, type MailerWebhooksModuleOptions } from './webhooks.options.js';
import { MailerWebhooksService, type WebhookOutcome } from './webhooks.service.js';
import { MAILER_WEBHOOKS_OPTIONS } from './webhooks.tokens.js';

/** The request as Express (or Fastify) hands it to a route when the app was created with `rawBody: true`. */
type IncomingWebhookRequest = IncomingMessage & {
  rawBody?: Buffer;
  body?: unknown;
  /** Set by body-parser once it has read the stream. */
  _body?: boolean;
  /** Fastify's underlying Node request. */
  raw?: IncomingMessage;
};

/** The answer to a request that was accepted. */
export interface WebhookAcceptedResponse {
  received: number;
  duplicate?: boolean;
  subscription?: 'confirmed' | 'pending';
}

/** The answer when a delivery could not be recorded (a sink or the suppression store failed). */
export const DELIVERY_NOT_RECORDED = 'The delivery could not be recorded; deliver it again later.';

export const RAW_BODY_MISSING =
  'The webhook endpoint needs the raw request body to check signatures. Create the application with ' +
  '`NestFactory.create(AppModule, { rawBody: true })`.';

class BodyTooLarge extends Error {}

async function readStream(stream: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += b.length;
    if (size > limit) throw new BodyTooLarge();
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/**
 * The bytes the provider signed. `req.rawBody` when Nest kept it (JSON bodies with `rawBody: true`);
 * otherwise the request stream when no body parser has read it (SNS posts `text/plain`, which
 * Nest's parsers leave alone); otherwise undefined — a configuration error, never a reason to
 * accept the request unsigned.
 */
async function rawBodyOf(req: IncomingWebhookRequest, limit: number): Promise<Buffer | undefined> {
  if (Buffer.isBuffer(req.rawBody)) return req.rawBody;
  if (typeof req.body === 'string' && req.raw !== undefined) return Buffer.from(req.body);
  const stream = req.raw ?? req;
  if (req._body !== true && req.body === undefined && typeof stream.on === 'function' && !stream.readableEnded) {
    return readStream(stream, limit);
  }
  return undefined;
}

/** Removes the slashes around a route path: `/webhooks/mail/` → `webhooks/mail`. */
export function normalizeWebhooksPath(path: string): string {
  return path.trim().replace(/^\/+|\/+$/g, '');
}

/**
 * A controller mounted at `path` with `POST <path>/:provider`. One class is made per module
 * registration because a controller's path is fixed when its class is decorated.
 */
export function createMailerWebhooksController(path: string): Type<unknown> {
  @Controller(normalizeWebhooksPath(path))
  class MailerWebhooksController {
    constructor(
      @Inject(MailerWebhooksService) private readonly webhooks: MailerWebhooksService,
      @Inject(MAILER_WEBHOOKS_OPTIONS) private readonly options: MailerWebhooksModuleOptions,
    ) {}

    @Post(':provider')
    @HttpCode(200)
    async receive(@Param('provider') provider: string, @Req() req: IncomingWebhookRequest): Promise<WebhookAcceptedResponse> {
      if (!this.webhooks.providers.includes(provider as never)) {
        throw new NotFoundException(`No webhook endpoint for "${provider}".`);
      }
      let rawBody: Buffer | undefined;
      try {
        rawBody = await rawBodyOf(req, this.options.bodyLimit ?? DEFAULT_WEBHOOK_BODY_LIMIT);
      } catch (error) {
        if (error instanceof BodyTooLarge) throw new PayloadTooLargeException('The webhook body is too large.');
        throw error;
      }
      if (rawBody === undefined) throw new InternalServerErrorException(RAW_BODY_MISSING);
      let outcome: WebhookOutcome;
      try {
        outcome = await this.webhooks.receive(provider, { headers: req.headers, rawBody });
      } catch {
        // The service has logged why; a 5xx makes every provider deliver the request again.
        throw new InternalServerErrorException(DELIVERY_NOT_RECORDED);
      }
      switch (outcome.status) {
        case 'accepted': {
          const answer: WebhookAcceptedResponse = { received: outcome.events.length };
          if (outcome.duplicate) answer.duplicate = true;
          if (outcome.subscription) answer.subscription = outcome.subscription.confirmed ? 'confirmed' : 'pending';
          return answer;
        }
        case 'unauthorized':
          throw new UnauthorizedException(`Webhook verification failed (${outcome.verification.reason}).`);
        case 'invalid':
          throw new BadRequestException(outcome.error.message);
        case 'retry':
          // 503 rather than 409: SNS retries 5xx answers only, and every provider retries them.
          throw new ServiceUnavailableException(outcome.message);
        default:
          throw new NotFoundException(`No webhook endpoint for "${provider}".`);
      }
    }
  }
  return MailerWebhooksController;
}
