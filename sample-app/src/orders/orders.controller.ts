import { Controller, HttpCode, Param, Post } from '@nestjs/common';
import { MailerService } from 'nestjs-mailroom';
import { OrdersService } from './orders.service.js';
import { receiptMail } from './receipt.mail.js';
import { shippedMail } from './shipped.mail.js';

@Controller('orders')
export class OrdersController {
  constructor(private readonly orders: OrdersService, private readonly mailer: MailerService) {}

  /** Sends the order's receipt: HTML from a layout, a partial per line, an inline logo and a PDF invoice. */
  @Post(':id/receipt')
  @HttpCode(202)
  async sendReceipt(@Param('id') id: string) {
    const order = this.orders.get(id);
    const { context, attachments } = receiptMail(order);
    const result = await this.mailer.send({
      to: { name: order.customer.name, address: order.customer.email },
      template: 'receipt',
      context,
      tags: ['receipt'],
      metadata: { orderId: order.id },
      attachments,
    });
    return {
      messageId: result.messageId,
      transport: result.transport,
      accepted: result.accepted,
      rejected: result.rejected.map((r) => ({ address: r.address, replyCode: r.replyCode, status: r.status })),
    };
  }

  /**
   * Tells the customer the order is on its way: an MJML template, compiled once at start-up, in
   * the customer's locale (`shipped.fr.mjml.hbs` for fr-CA, `shipped.mjml.hbs` for the others).
   */
  @Post(':id/shipped')
  @HttpCode(202)
  async sendShipped(@Param('id') id: string) {
    const result = await this.mailer.send({ ...shippedMail(this.orders.get(id)), tags: ['shipped'] });
    return { messageId: result.messageId, transport: result.transport, accepted: result.accepted };
  }
}
