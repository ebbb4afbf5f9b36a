import 'reflect-metadata';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { NestFactory } from '@nestjs/core';
import { MailerService } from 'nestjs-mailroom';
import { AppModule } from './app.module.js';
import { WelcomeService } from './welcome.service.js';

// Sends one welcome mail through MAILER_URL and prints what happened as one JSON line.
const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
try {
  const result = await app.get(WelcomeService).welcome(process.argv[2] ?? 'ada@example.org', 'Ada');
  const report = {
    nest: (createRequire(import.meta.url)('@nestjs/core/package.json') as { version: string }).version,
    mailroom: fileURLToPath(import.meta.resolve('nestjs-mailroom')),
    transports: app.get(MailerService).transportNames,
    result,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
} finally {
  await app.close();
}
