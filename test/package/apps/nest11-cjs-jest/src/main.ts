import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { MailerService } from 'nestjs-mailroom';
import { AppModule } from './app.module';
import { WelcomeService } from './welcome.service';

// Sends one welcome mail through MAILER_URL and prints what happened as one JSON line.
async function main(): Promise<void> {
  const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
  try {
    const result = await app.get(WelcomeService).welcome(process.argv[2] ?? 'ada@example.org', 'Ada');
    const report = {
      nest: require('@nestjs/core/package.json').version as string,
      mailroom: require.resolve('nestjs-mailroom'),
      transports: app.get(MailerService).transportNames,
      result,
    };
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } finally {
    await app.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
