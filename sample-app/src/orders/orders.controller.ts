import { readFileSync } from 'node:fs';
import { Controller, HttpCode, Param, Post } from '@nestjs/common';
import { MailerService } from 'nestjs-mailroom';
import { invoicePdf } from './invoice-pdf.js';
import { OrdersService } from './orders.service.js';

const LOGO = readFileSync(new URL('../../assets/logo.png', import.meta.url));

@Controller('orders')
export class OrdersController {
  constructor(private readonly orders: OrdersService, private readonly mailer: MailerService) {}

  /** Sends the order's receipt: HTML from a layout, a partial per line, an inline logo and a PDF invoice. */
  @Post(':id/receipt')
  @HttpCode(202)
  async sendReceipt(@Param('id') id: string) {
    const order = this.orders.get(id);
    const money = new Intl.NumberFormat('en-IE', { style: 'currency', currency: order.currency });
    const lines = order.lines.map((l) => ({ ...l, unitPrice: money.format(l.unitPrice), total: money.format(l.qty * l.unitPrice) }));
    const total = money.format(order.lines.reduce((sum, l) => sum + l.qty * l.unitPrice, 0));
    const result = await this.mailer.send({
      to: { name: order.customer.name, address: order.customer.email },
      template: 'receipt',
      context: { order: { id: order.id, lines, total }, customer: order.customer },
      tags: ['receipt'],
      metadata: { orderId: order.id },
      attachments: [
        { filename: 'logo.png', content: LOGO, cid: 'logo@mailroom.sample', contentType: 'image/png' },
        {
          filename: `invoice-${order.id}.pdf`,
          content: invoicePdf([`Invoice for order ${order.id}`, order.customer.name, ...lines.map((l) => `${l.qty} x ${l.name}  ${l.total}`), `Total ${total}`]),
          contentType: 'application/pdf',
        },
      ],
    });
    return {
      messageId: result.messageId,
      transport: result.transport,
      accepted: result.accepted,
      rejected: result.rejected.map((r) => ({ address: r.address, replyCode: r.replyCode, status: r.status })),
    };
  }
}
