import { fileURLToPath } from 'node:url';
import { Module } from '@nestjs/common';
import { MailerModule } from 'nestjs-mailroom';
import { WelcomeController } from './welcome.controller.js';
import { WelcomeService } from './welcome.service.js';

@Module({
  imports: [
    MailerModule.forRoot({
      transport: process.env.MAILER_URL ?? 'memory://',
      defaults: { from: 'Mailroom Shop <app@example.com>' },
      templates: { dir: fileURLToPath(new URL('./templates', import.meta.url)) },
    }),
  ],
  controllers: [WelcomeController],
  providers: [WelcomeService],
})
export class AppModule {}
