import {
  Controller,
  Get,
  Header,
  Inject,
  NotFoundException,
  Param,
  Query,
  Req,
  Sse,
  StreamableFile,
  UnprocessableEntityException,
  UseInterceptors,
  type MessageEvent,
  type Type,
} from '@nestjs/common';
import { concat, map, of, type Observable } from 'rxjs';
import { MailerConfigurationError } from '../errors/mailer.error.js';
import { attachmentAt, describeMail, type BuiltMail, type MailView } from './mail-view.js';
import { MAIL_CSP, PAGE_CSP, PreviewResponseInterceptor } from './preview.headers.js';
import { MailerPreviewService, type PreviewErrorInfo, type PreviewListing, type PreviewOutcome } from './preview.service.js';
import { PreviewOutbox, type OutboxEntry, type OutboxSummary } from './preview-outbox.store.js';
import { previewPage } from './ui/preview.page.js';
import { PREVIEW_CLIENT } from './ui/preview.client.js';
import { PREVIEW_STYLES } from './ui/preview.styles.js';

/** A template preview, as the JSON API answers it. */
export type PreviewAnswer =
  | { ok: true; template: string; preview?: string; locale?: string; renderMs: number; view: MailView }
  | { ok: false; template: string; preview?: string; error: PreviewErrorInfo };

/** A recorded mail, as the JSON API answers it. */
export interface OutboxAnswer extends OutboxSummary {
  accepted?: string[];
  rejected?: string[];
  view: MailView;
}

const SAFE_PATH = /^[A-Za-z0-9._~-]+(?:\/[A-Za-z0-9._~-]+)*$/;

/** `/outbox/` → `outbox`; refuses a path with characters a route should not have. */
export function normalizePreviewPath(path: string): string {
  const trimmed = String(path).trim().replace(/^\/+|\/+$/g, '');
  if (!SAFE_PATH.test(trimmed) || trimmed.split('/').some((s) => s === '.' || s === '..')) {
    throw new MailerConfigurationError(`MailerPreviewModule: path must be letters, digits, -, _, . and / (like "mail-preview"), got ${JSON.stringify(path)}.`);
  }
  return trimmed;
}

/** `attachment; filename="…"` with an ASCII fallback and the UTF-8 name (RFC 6266). */
function disposition(kind: 'inline' | 'attachment', filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\%;]/g, '_');
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

function escapeAttribute(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The path the page was requested under, without a trailing slash (a global prefix included). */
function basePath(req: { originalUrl?: string; url?: string }): string {
  const url = req.originalUrl ?? req.url ?? '/';
  return new URL(url, 'http://preview.invalid').pathname.replace(/\/+$/, '');
}

function index(value: string): number {
  if (!/^\d{1,9}$/.test(value)) throw new NotFoundException();
  return Number(value);
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function sendAttachment(built: BuiltMail, position: string): StreamableFile {
  const attachment = attachmentAt(built, index(position));
  if (!attachment) throw new NotFoundException('No such attachment.');
  return new StreamableFile(attachment.content, {
    type: attachment.contentType,
    disposition: disposition(attachment.inline ? 'inline' : 'attachment', attachment.filename),
    length: attachment.content.length,
  });
}

function sendSource(built: BuiltMail, download: unknown): StreamableFile {
  return new StreamableFile(built.raw, {
    type: 'text/plain; charset=utf-8',
    disposition: download === undefined ? 'inline' : disposition('attachment', 'mail.eml'),
    length: built.raw.length,
  });
}

/**
 * A controller for the UI at `path`. One class is made per module registration because a
 * controller's path is fixed when its class is decorated.
 */
export function createMailerPreviewController(path: string): Type<unknown> {
  @Controller(normalizePreviewPath(path))
  @UseInterceptors(PreviewResponseInterceptor)
  class MailerPreviewController {
    constructor(@Inject(MailerPreviewService) private readonly preview: MailerPreviewService) {}

    @Get()
    @Header('Content-Type', 'text/html; charset=utf-8')
    @Header('Content-Security-Policy', PAGE_CSP)
    page(@Req() req: { originalUrl?: string; url?: string }): string {
      return previewPage(escapeAttribute(basePath(req)));
    }

    @Get('assets/preview.js')
    @Header('Content-Type', 'text/javascript; charset=utf-8')
    client(): string {
      return PREVIEW_CLIENT;
    }

    @Get('assets/preview.css')
    @Header('Content-Type', 'text/css; charset=utf-8')
    styles(): string {
      return PREVIEW_STYLES;
    }

    @Get('api/templates')
    templates(): PreviewListing {
      return this.preview.listing();
    }

    @Get('api/preview')
    async render(@Query('template') template: unknown, @Query('preview') preview: unknown): Promise<PreviewAnswer> {
      const outcome = await this.rendered(template, preview);
      if (!outcome.ok) return outcome;
      const { built, ...rest } = outcome;
      return { ...rest, view: describeMail(built) };
    }

    @Get('api/preview/html')
    @Header('Content-Type', 'text/html; charset=utf-8')
    @Header('Content-Security-Policy', MAIL_CSP)
    async renderHtml(@Query('template') template: unknown, @Query('preview') preview: unknown): Promise<string> {
      return this.html((await this.built(template, preview)));
    }

    @Get('api/preview/source')
    async renderSource(@Query('template') template: unknown, @Query('preview') preview: unknown, @Query('download') download: unknown): Promise<StreamableFile> {
      return sendSource(await this.built(template, preview), download);
    }

    @Get('api/preview/attachments/:index')
    async renderAttachment(@Query('template') template: unknown, @Query('preview') preview: unknown, @Param('index') position: string): Promise<StreamableFile> {
      return sendAttachment(await this.built(template, preview), position);
    }

    @Get('api/mails')
    mails(): OutboxSummary[] {
      return this.preview.mails();
    }

    @Get('api/mails/:id')
    async mail(@Param('id') id: string): Promise<OutboxAnswer> {
      const entry = this.entry(id);
      const answer: OutboxAnswer = { ...PreviewOutbox.summarize(entry), view: describeMail(await this.preview.buildOutboxMail(entry)) };
      if (entry.accepted) answer.accepted = entry.accepted;
      if (entry.rejected) answer.rejected = entry.rejected;
      return answer;
    }

    @Get('api/mails/:id/html')
    @Header('Content-Type', 'text/html; charset=utf-8')
    @Header('Content-Security-Policy', MAIL_CSP)
    async mailHtml(@Param('id') id: string): Promise<string> {
      return this.html(await this.preview.buildOutboxMail(this.entry(id)));
    }

    @Get('api/mails/:id/source')
    async mailSource(@Param('id') id: string, @Query('download') download: unknown): Promise<StreamableFile> {
      return sendSource(await this.preview.buildOutboxMail(this.entry(id)), download);
    }

    @Get('api/mails/:id/attachments/:index')
    async mailAttachment(@Param('id') id: string, @Param('index') position: string): Promise<StreamableFile> {
      return sendAttachment(await this.preview.buildOutboxMail(this.entry(id)), position);
    }

    /**
     * `ready` once the stream listens (the page sends nothing it could miss before), then `mail`
     * when one is recorded and `templates` when they were recompiled.
     */
    @Sse('api/events')
    events(): Observable<MessageEvent> {
      return concat(
        of<MessageEvent>({ type: 'ready', data: {} }),
        this.preview.changes$.pipe(map((change): MessageEvent => ({ type: change.type, data: change.data }))),
      );
    }

    private entry(id: string): OutboxEntry {
      const entry = this.preview.mail(index(id));
      if (!entry) throw new NotFoundException('No such mail in the outbox (it may have been dropped: the outbox keeps the newest).');
      return entry;
    }

    private async rendered(template: unknown, preview: unknown): Promise<PreviewOutcome> {
      const name = text(template);
      const sample = preview === undefined ? undefined : text(preview);
      const outcome = name === undefined || (preview !== undefined && sample === undefined) ? undefined : await this.preview.render(name, sample);
      if (!outcome) throw new NotFoundException('No such template or preview.');
      return outcome;
    }

    private async built(template: unknown, preview: unknown): Promise<BuiltMail> {
      const outcome = await this.rendered(template, preview);
      if (!outcome.ok) throw new UnprocessableEntityException(outcome.error.message);
      return outcome.built;
    }

    private html(built: BuiltMail): string {
      const html = built.parsed.html;
      if (typeof html !== 'string') throw new NotFoundException('This mail has no HTML part.');
      return html;
    }
  }
  return MailerPreviewController;
}
