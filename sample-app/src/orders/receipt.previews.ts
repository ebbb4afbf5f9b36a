import { Injectable } from '@nestjs/common';
import { MailPreview, type MailPreviewResult } from 'nestjs-mailroom/preview';
import { OrdersService } from './orders.service.js';
import { receiptMail } from './receipt.mail.js';

/**
 * Sample receipts for the mail preview (GET /outbox): each method is one preview of the `receipt`
 * template, built the way the controller builds a real one.
 */
@MailPreview('receipt')
@Injectable()
export class ReceiptPreviews {
  constructor(private readonly orders: OrdersService) {}

  severalLines(): MailPreviewResult {
    const order = this.orders.get('1001');
    return { ...receiptMail(order), to: { name: order.customer.name, address: order.customer.email } };
  }

  oneLine(): MailPreviewResult {
    const order = this.orders.get('1002');
    return { ...receiptMail(order), to: { name: order.customer.name, address: order.customer.email } };
  }

  longOrder(): MailPreviewResult {
    const order = this.orders.get('1001');
    const lines = Array.from({ length: 12 }, (_, i) => ({ name: `Filament bulb, ${20 + i * 5} W`, qty: 1 + (i % 3), unitPrice: 6.5 + i }));
    return receiptMail({ ...order, id: '2001', lines });
  }
}
