import { isAbsolute, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, ModuleRef } from '@nestjs/core';
import { Subject, type Observable } from 'rxjs';
import { MAIL_EVENTS, type MailEvent } from '../core/events.types.js';
import type { Mail } from '../core/mail.types.js';
import { isMailerError, MailerConfigurationError, TemplateSyntaxError } from '../errors/mailer.error.js';
import { checkOptions } from '../errors/option.checker.js';
import { redact } from '../errors/redact.js';
import type { MailerRuntime } from '../nest/mailer.runtime.js';
import { MailerService } from '../nest/mailer.service.js';
import { MAILER_RUNTIME } from '../nest/mailer.tokens.js';
import { normalizeLocale } from '../templates/locale.js';
import type { RenderOptions } from '../templates/template-renderer.types.js';
import { composeMail } from '../transports/mail.compose.js';
import type { MailPreviewResult } from './mail-preview.decorator.js';
import { buildMail, type BuiltMail } from './mail-view.js';
import { DEFAULT_OUTBOX_SIZE, PREVIEW_OPTION_SHAPE, type MailerPreviewModuleOptions } from './preview.options.js';
import { MAIL_PREVIEW_METADATA, MAILER_PREVIEW_OPTIONS } from './preview.tokens.js';
import { PreviewOutbox, type OutboxEntry, type OutboxSummary } from './preview-outbox.store.js';

/** An error as the UI shows it: what it says, and where in the templates when that is known. */
export interface PreviewErrorInfo {
  message: string;
  code?: string;
  /** The template file, relative to the templates folder when it lies inside it. */
  file?: string;
  line?: number;
  /** Which step failed: the preview method, the template, or composing the mail. */
  stage?: 'preview' | 'render' | 'compose';
}

export interface PreviewListing {
  /** `locales`: the locales the template has files for (its localized versions). */
  templates: Array<{ name: string; locales: string[]; previews: Array<{ name: string; source: string }> }>;
  /** Preview classes whose template does not exist. */
  orphans: Array<{ template: string; source: string }>;
  /** The last recompile in watch mode failed: the templates in use are the previous ones. */
  error: PreviewErrorInfo | null;
  /** False when the configured renderer cannot list its templates (a custom renderer). */
  listable: boolean;
}

export type PreviewOutcome =
  | { ok: true; built: BuiltMail; renderMs: number; template: string; preview?: string; locale?: string }
  | { ok: false; error: PreviewErrorInfo; template: string; preview?: string };

export type PreviewChange =
  | { type: 'mail'; data: OutboxSummary }
  | { type: 'templates'; data: { error: PreviewErrorInfo | null } };

interface PreviewMethod {
  template: string;
  name: string;
  source: string;
  run: () => unknown;
}

const EXTRA_HINT = 'is a module extra, not an option: give it to forRoot({ … }) or forRootAsync({ path, useFactory, … }) next to useFactory, not in what the factory returns.';
const RESULT_KEYS = new Set(['context', 'subject', 'layout', 'locale', 'to', 'attachments']);
const PREVIEW_FROM = 'Mail preview <preview@example.com>';
const PREVIEW_TO = 'Recipient <recipient@example.com>';

function isResult(value: unknown): value is MailPreviewResult {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  const context = (value as { context?: unknown }).context;
  return keys.includes('context') && typeof context === 'object' && context !== null && keys.every((k) => RESULT_KEYS.has(k));
}

/** Methods of a class and its parents, in the order written, without the constructor. */
function methodNames(prototype: object): string[] {
  const names: string[] = [];
  for (let proto: object | null = prototype; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto) as object | null) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (name === 'constructor' || names.includes(name)) continue;
      const descriptor = Object.getOwnPropertyDescriptor(proto, name);
      if (descriptor && typeof descriptor.value === 'function') names.push(name);
    }
  }
  return names;
}

/**
 * The preview module's state: the templates and their sample contexts (found through Nest's
 * discovery service), the outbox fed by the mailer's events, and what changed since a page loaded.
 * Renders go through the application's own MailerService, so helpers, partials, layouts and CSS
 * inlining are those of production.
 */
@Injectable()
export class MailerPreviewService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('MailerPreview');
  private readonly changes = new Subject<PreviewChange>();
  private readonly stops: Array<() => void> = [];
  private readonly previews: PreviewMethod[] = [];
  private readonly outbox: PreviewOutbox;
  private mailer?: MailerService;
  private runtime?: MailerRuntime;
  private templateError: PreviewErrorInfo | null = null;

  /** Whether the UI is served; false answers every route with 404. */
  readonly enabled: boolean;
  /** A mail recorded, or templates recompiled (with the error when that failed). */
  readonly changes$: Observable<PreviewChange> = this.changes.asObservable();

  constructor(
    @Inject(MAILER_PREVIEW_OPTIONS) options: MailerPreviewModuleOptions,
    private readonly moduleRef: ModuleRef,
    private readonly discovery: DiscoveryService,
  ) {
    checkOptions(options, PREVIEW_OPTION_SHAPE, 'MailerPreviewModule', { path: EXTRA_HINT });
    const size = options.outboxSize ?? DEFAULT_OUTBOX_SIZE;
    if (!Number.isInteger(size) || size < 1) {
      throw new MailerConfigurationError(`MailerPreviewModule: outboxSize must be a whole number of at least 1, got ${String(size)}.`);
    }
    this.outbox = new PreviewOutbox(size);
    this.enabled = options.enabled === true;
    if (this.enabled && process.env.NODE_ENV === 'production') {
      if (options.force !== true) {
        throw new MailerConfigurationError(
          'MailerPreviewModule refuses to start with NODE_ENV=production: its pages show every mail the application sends, ' +
            'to anyone who can reach them. Set enabled to false there (enabled: process.env.NODE_ENV !== \'production\'), or force: true if you mean it.',
        );
      }
      this.logger.warn('The mail preview is on with NODE_ENV=production (force: true): anyone who can reach it reads every mail sent.');
    }
  }

  onModuleInit(): void {
    if (!this.enabled) return;
    let mailer: MailerService;
    let runtime: MailerRuntime;
    try {
      mailer = this.moduleRef.get(MailerService, { strict: false });
      runtime = this.moduleRef.get<MailerRuntime>(MAILER_RUNTIME, { strict: false });
    } catch {
      throw new MailerConfigurationError('MailerPreviewModule needs a MailerModule in the application: it previews and records what that module sends.');
    }
    this.mailer = mailer;
    this.runtime = runtime;
    const subscription = mailer.events$.subscribe((event) => this.record(event));
    this.stops.push(() => subscription.unsubscribe());
    const renderer = runtime.renderer;
    if (renderer?.onReload) {
      this.stops.push(renderer.onReload((error) => {
        this.templateError = error ? this.errorInfo(error) : null;
        this.changes.next({ type: 'templates', data: { error: this.templateError } });
      }));
    }
    this.discover();
  }

  onModuleDestroy(): void {
    for (const stop of this.stops.splice(0)) stop();
    // Ends the pages' event streams, so the HTTP server can close.
    this.changes.complete();
  }

  private discover(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const { instance, metatype } = wrapper;
      if (!instance || !metatype || typeof metatype !== 'function' || !wrapper.isDependencyTreeStatic()) continue;
      const template = Reflect.getMetadata(MAIL_PREVIEW_METADATA, metatype) as string | undefined;
      if (typeof template !== 'string') continue;
      const owner = instance as Record<string, unknown>;
      for (const name of methodNames(Object.getPrototypeOf(instance) as object)) {
        const source = `${metatype.name}.${name}`;
        this.previews.push({ template, name, source, run: () => (owner[name] as () => unknown).call(owner) });
      }
    }
  }

  private record(event: MailEvent): void {
    let entry: OutboxEntry;
    if (event.type === MAIL_EVENTS.sent) {
      entry = this.outbox.add({
        status: 'sent',
        transport: event.result.transport,
        mail: event.mail,
        accepted: [...event.result.accepted],
        rejected: event.result.rejected.map((r) => r.address),
      });
    } else if (event.type === MAIL_EVENTS.failed) {
      entry = this.outbox.add({ status: 'failed', transport: event.transport, mail: event.mail, error: redact(event.error.message) });
    } else {
      return;
    }
    this.changes.next({ type: 'mail', data: PreviewOutbox.summarize(entry) });
  }

  private templateNames(): string[] {
    return this.runtime?.renderer?.templateNames?.() ?? [];
  }

  listing(): PreviewListing {
    const names = this.templateNames();
    return {
      templates: names.map((name) => ({
        name,
        locales: this.runtime?.renderer?.locales?.(name) ?? [],
        previews: this.previews.filter((p) => p.template === name).map(({ name: preview, source }) => ({ name: preview, source })),
      })),
      orphans: this.previews.filter((p) => !names.includes(p.template)).map(({ template, source }) => ({ template, source })),
      error: this.templateError,
      listable: typeof this.runtime?.renderer?.templateNames === 'function',
    };
  }

  /**
   * Renders `template` with the context of the preview method named `preview` (no preview: an empty
   * context). Undefined when there is no such template or preview. The template is looked up in
   * the renderer's list, so a name is never a path.
   */
  async render(template: string, preview?: string): Promise<PreviewOutcome | undefined> {
    if (!this.mailer || !this.templateNames().includes(template)) return undefined;
    let method: PreviewMethod | undefined;
    if (preview !== undefined) {
      method = this.previews.find((p) => p.template === template && p.name === preview);
      if (!method) return undefined;
    }
    const at = { template, ...(preview !== undefined ? { preview } : {}) };
    let result: MailPreviewResult;
    try {
      const returned = method ? await method.run() : {};
      result = isResult(returned) ? returned : { context: (returned ?? {}) as Record<string, unknown> };
      if (typeof result.context !== 'object' || result.context === null || Array.isArray(result.context)) {
        throw new TypeError(`${method!.source}() must return an object (a context or { context, subject, layout, locale, to, attachments }).`);
      }
    } catch (error) {
      return { ok: false, error: { ...this.errorInfo(error), stage: 'preview' }, ...at };
    }

    let rendered;
    const started = performance.now();
    const locale = result.locale ?? this.runtime!.options.locale?.default;
    try {
      const options: RenderOptions = { ...(result.layout === undefined ? {} : { layout: result.layout }), ...(locale === undefined ? {} : { locale }) };
      rendered = await this.mailer.render(template, result.context, options);
    } catch (error) {
      return { ok: false, error: { ...this.errorInfo(error), stage: 'render' }, ...at };
    }
    const renderMs = performance.now() - started;
    const shown = locale === undefined ? {} : { locale: normalizeLocale(locale) ?? locale };

    try {
      const { defaults = {}, attachments = {} } = this.runtime!.options;
      const mail: Mail = { to: result.to ?? PREVIEW_TO, template, attachments: result.attachments };
      if (defaults.from === undefined) mail.from = PREVIEW_FROM;
      if (result.subject !== undefined) mail.subject = result.subject;
      const composed = await composeMail(mail, rendered, defaults, attachments);
      return { ok: true, built: await buildMail(composed), renderMs, ...at, ...shown };
    } catch (error) {
      return { ok: false, error: { ...this.errorInfo(error), stage: 'compose' }, ...at };
    }
  }

  mails(): OutboxSummary[] {
    return this.outbox.list().map((entry) => PreviewOutbox.summarize(entry));
  }

  mail(id: number): OutboxEntry | undefined {
    return this.outbox.get(id);
  }

  buildOutboxMail(entry: OutboxEntry): Promise<BuiltMail> {
    return this.outbox.build(entry);
  }

  private errorInfo(error: unknown): PreviewErrorInfo {
    const err = error instanceof Error ? error : new Error(String(error));
    const info: PreviewErrorInfo = { message: redact(err.message) };
    if (isMailerError(err)) info.code = err.code;
    if (err instanceof TemplateSyntaxError) {
      info.file = this.templateFile(err.file);
      const line = /\bline (\d+)\b/.exec(err.message);
      if (line) info.line = Number(line[1]);
    }
    return info;
  }

  /** `file` relative to the templates folder when it lies inside it. */
  private templateFile(file: string): string {
    const templates = this.runtime?.options.templates;
    const dir = templates && 'dir' in templates ? templates.dir : undefined;
    if (!dir || !isAbsolute(file)) return file;
    const inside = relative(resolve(dir), file);
    return inside && !inside.startsWith('..') && !isAbsolute(inside) ? inside : file;
  }
}
