import 'reflect-metadata';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Injectable, type INestApplication, type Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { MailerModule, MailerService, type MailerModuleOptions } from 'nestjs-mailroom';
import { MailPreview, MailerPreviewModule, type MailerPreviewModuleOptions } from 'nestjs-mailroom/preview';

export const PREVIEW_TEMPLATES = fileURLToPath(new URL('../fixtures/preview-templates', import.meta.url));

/** A 1×1 PNG, so a layout's `cid:` logo has real bytes. */
export const LOGO_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkaPhfDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

export const logo = { filename: 'logo.png', content: LOGO_PNG, cid: 'logo@preview.test', contentType: 'image/png' };

@Injectable()
export class SampleData {
  customer(name: string): { name: string; email: string } {
    return { name, email: `${name.toLowerCase()}@example.org` };
  }
}

/** Sample contexts for orders/receipt, with an injected helper to show previews get DI. */
@MailPreview('orders/receipt')
@Injectable()
export class ReceiptPreviews {
  constructor(private readonly data: SampleData) {}

  twoItems() {
    return {
      context: {
        shop: 'Lumen',
        customer: this.data.customer('Ada'),
        order: { id: 'A-1', total: '€12.00', items: [{ name: 'Lamp', qty: 1 }, { name: 'Bulb', qty: 2 }] },
      },
      attachments: [logo],
    };
  }

  async refunded() {
    return {
      context: { shop: 'Lumen', customer: this.data.customer('Grace'), order: { id: 'A-2', total: '€0.00', items: [] } },
      subject: 'Your refund',
    };
  }

  broken(): Record<string, unknown> {
    throw new Error('the sample order could not be loaded');
  }
}

@MailPreview('orders/missing')
@Injectable()
export class OrphanPreviews {
  sample() {
    return {};
  }
}

export interface PreviewApp {
  app: INestApplication;
  mailer: MailerService;
  url: string;
  /** The templates folder in use (a temp copy when `copyTemplates` was set). */
  templates: string;
  close(): Promise<void>;
}

export interface PreviewAppOptions {
  preview?: MailerPreviewModuleOptions;
  path?: string;
  mailer?: Partial<MailerModuleOptions>;
  /** Copy the fixture templates to a temp folder and watch it. */
  copyTemplates?: boolean;
  providers?: Type<unknown>[];
  listen?: boolean;
  /** `app.setGlobalPrefix(prefix)` before listening. */
  globalPrefix?: string;
}

/** A Nest app with a MailerModule on memory:// and the preview module, listening on a loopback port. */
export async function startPreviewApp(options: PreviewAppOptions = {}): Promise<PreviewApp> {
  let templates = PREVIEW_TEMPLATES;
  let removeCopy = async (): Promise<void> => {};
  if (options.copyTemplates) {
    const dir = await mkdtemp(join(tmpdir(), 'mailroom-preview-'));
    await cp(PREVIEW_TEMPLATES, dir, { recursive: true });
    templates = dir;
    removeCopy = () => rm(dir, { recursive: true, force: true });
  }
  try {
    const moduleRef = await Test.createTestingModule({
      imports: [
        MailerModule.forRoot({
          transport: 'memory://',
          defaults: { from: 'Lumen <shop@example.com>' },
          templates: { dir: templates, ...(options.copyTemplates ? { watch: true, watchDebounceMs: 20, onError: () => {} } : {}) },
          ...options.mailer,
        }),
        MailerPreviewModule.forRoot({ enabled: true, ...options.preview, ...(options.path ? { path: options.path } : {}) }),
      ],
      providers: options.providers ?? [SampleData, ReceiptPreviews, OrphanPreviews],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    if (options.globalPrefix) app.setGlobalPrefix(options.globalPrefix);
    if (options.listen === false) await app.init();
    else await app.listen(0, '127.0.0.1');
    const port = options.listen === false ? 0 : (app.getHttpServer().address() as AddressInfo).port;
    return {
      app,
      mailer: app.get(MailerService),
      url: `http://127.0.0.1:${port}/${options.globalPrefix ? `${options.globalPrefix}/` : ''}${(options.path ?? 'mail-preview').replace(/^\/+|\/+$/g, '')}`,
      templates,
      async close() {
        // A page's live stream (server-sent events) keeps its connection open; end it rather than
        // wait for the browser to notice the page closed.
        (app.getHttpServer() as { closeAllConnections?: () => void }).closeAllConnections?.();
        await app.close();
        await removeCopy();
      },
    };
  } catch (error) {
    await removeCopy();
    throw error;
  }
}
