import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** A throwaway application that depends on the packed tarball the way a user's app would. */
export interface ConsumerApp {
  label: string;
  /** Major version of Nest the app is built on. */
  nest: 11 | 12;
  module: 'esm' | 'commonjs';
  dir: string;
  /** The entry file, relative to `dir`. */
  entry: string;
  /** Shop name put into the template context, so each app's mail is recognisable. */
  shop: string;
}

export const RECIPIENT = 'ada@example.org';
export const SENDER = 'app@example.com';

const TEMPLATES: Record<string, string> = {
  'layouts/main.hbs': [
    '<!doctype html>',
    '<html>',
    '<head><meta charset="utf-8"><style>.greeting { color: #0a7; }</style></head>',
    '<body>{{{body}}}<p class="footer">{{> signature}}</p></body>',
    '</html>',
    '',
  ].join('\n'),
  'partials/signature.hbs': 'The {{shop}} team\n',
  'welcome.hbs': '<p class="greeting">Welcome, {{name}}!</p>\n',
  'welcome.subject.hbs': 'Welcome to {{shop}}, {{name}}\n',
};

/** The part of the app that is the same in both module systems. */
function appBody(shop: string): string {
  return `
class Notifier {
  constructor(mailer) {
    this.mailer = mailer;
  }

  welcome(to) {
    return this.mailer.send({ to, template: 'welcome', context: { name: 'Ada', shop: ${JSON.stringify(shop)} } });
  }
}
Injectable()(Notifier);
Inject(MailerService)(Notifier, undefined, 0);

class AppModule {}
Module({
  imports: [
    MailerModule.forRoot({
      transport: process.env.MAILER_URL,
      defaults: { from: ${JSON.stringify(SENDER)} },
      templates: { dir: './templates' },
    }),
  ],
  providers: [Notifier],
})(AppModule);

async function main() {
  const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
  try {
    const result = await app.get(Notifier).welcome(${JSON.stringify(RECIPIENT)});
    const report = { nest: nestVersion, mailroom: mailroomEntry, result };
    process.stdout.write(JSON.stringify(report) + '\\n');
  } finally {
    await app.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
`;
}

function esmSource(shop: string): string {
  return `import 'reflect-metadata';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Inject, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MailerModule, MailerService } from 'nestjs-mailroom';

const nestVersion = createRequire(import.meta.url)('@nestjs/core/package.json').version;
const mailroomEntry = fileURLToPath(import.meta.resolve('nestjs-mailroom'));
${appBody(shop)}`;
}

function commonJsSource(shop: string): string {
  return `'use strict';
require('reflect-metadata');
const { Inject, Injectable, Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { MailerModule, MailerService } = require('nestjs-mailroom');

const nestVersion = require('@nestjs/core/package.json').version;
const mailroomEntry = require.resolve('nestjs-mailroom');
${appBody(shop)}`;
}

/** Writes package.json, the entry file and a templates folder (layout, partial, template, subject). */
export function writeConsumerApp(app: ConsumerApp, tarball: string): void {
  const manifest: Record<string, unknown> = {
    name: `mailroom-consumer-nest${app.nest}-${app.module}`,
    version: '0.0.0',
    private: true,
    ...(app.module === 'esm' ? { type: 'module' } : {}),
    dependencies: {
      '@nestjs/common': `^${app.nest}`,
      '@nestjs/core': `^${app.nest}`,
      'nestjs-mailroom': `file:${tarball}`,
      'reflect-metadata': '^0.2.0',
      rxjs: '^7',
    },
  };
  const files: Record<string, string> = {
    'package.json': `${JSON.stringify(manifest, null, 2)}\n`,
    [app.entry]: app.module === 'esm' ? esmSource(app.shop) : commonJsSource(app.shop),
    ...Object.fromEntries(Object.entries(TEMPLATES).map(([name, text]) => [`templates/${name}`, text])),
  };
  for (const [name, text] of Object.entries(files)) {
    const path = join(app.dir, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
}
