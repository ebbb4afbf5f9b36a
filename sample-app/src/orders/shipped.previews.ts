import { Injectable } from '@nestjs/common';
import { MailPreview, type MailPreviewResult } from 'nestjs-mailroom/preview';
import { OrdersService, type Order } from './orders.service.js';
import { shippedMail } from './shipped.mail.js';

const SHIPPED_AT = new Date('2026-03-02T15:30:00Z');

function preview(order: Order): MailPreviewResult {
  const { context, attachments, to, locale } = shippedMail(order, SHIPPED_AT);
  return { context, attachments, to, locale };
}

/**
 * Sample "on its way" mails for the preview: one per locale the `shipped` template is written in,
 * and one it falls back for. Every method of the class is a preview.
 */
@MailPreview('shipped')
@Injectable()
export class ShippedPreviews {
  constructor(private readonly orders: OrdersService) {}

  canadianFrench(): MailPreviewResult {
    return preview(this.orders.get('1003'));
  }

  britishEnglish(): MailPreviewResult {
    return preview(this.orders.get('1001'));
  }

  /** German has no template of its own: the English one, with German dates and amounts. */
  german(): MailPreviewResult {
    const order = this.orders.get('1001');
    return preview({ ...order, customer: { ...order.customer, locale: 'de-DE' } });
  }
}
