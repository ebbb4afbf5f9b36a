import { join } from 'node:path';
import { Module } from '@nestjs/common';
import { MailerModule } from 'nestjs-mailroom';
import { WelcomeController } from './welcome.controller';
import { WelcomeService } from './welcome.service';

@Module({
  imports: [
    MailerModule.forRoot({
      transport: process.env.MAILER_URL ?? 'memory://',
      defaults: { from: 'Mailroom Shop <app@example.com>' },
      templates: { dir: join(__dirname, 'templates') },
    }),
  ],
  controllers: [WelcomeController],
  providers: [WelcomeService],
})
export class AppModule {}
