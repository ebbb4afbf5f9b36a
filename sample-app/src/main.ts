import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(AppModule);
  app.enableShutdownHooks();
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port, '127.0.0.1');
  const logger = new Logger('Sample');
  logger.log(`Listening on http://127.0.0.1:${port}`);
  logger.log(process.env.MAILER_URL ? 'Mail goes to the transport in MAILER_URL.' : 'MAILER_URL is not set: mail goes to the embedded SMTP server.');
  if (process.env.NODE_ENV !== 'production') logger.log(`Mail preview and outbox: http://127.0.0.1:${port}/outbox`);
  logger.log(`Try: curl -X POST http://127.0.0.1:${port}/orders/1001/receipt, then open the outbox.`);
}

void bootstrap();
