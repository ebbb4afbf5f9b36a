import { Injectable } from '@nestjs/common';
import { MailerService, type SendResult } from 'nestjs-mailroom';

export const SHOP = 'Mailroom CJS';

@Injectable()
export class WelcomeService {
  constructor(private readonly mailer: MailerService) {}

  welcome(to: string, name: string): Promise<SendResult> {
    return this.mailer.send({ to, template: 'welcome', context: { name, shop: SHOP } });
  }
}
