import { readFileSync } from 'node:fs';
import type { AttachmentInput } from 'nestjs-mailroom';
import { invoicePdf } from './invoice-pdf.js';
import type { Order } from './orders.service.js';

const LOGO = readFileSync(new URL('../../assets/logo.png', import.meta.url));

/** The receipt template's context and attachments for an order: what the controller sends and the previews show. */
export function receiptMail(order: Order): { context: Record<string, unknown>; attachments: AttachmentInput[] } {
  const money = new Intl.NumberFormat('en-IE', { style: 'currency', currency: order.currency });
  const lines = order.lines.map((l) => ({ ...l, unitPrice: money.format(l.unitPrice), total: money.format(l.qty * l.unitPrice) }));
  const total = money.format(order.lines.reduce((sum, l) => sum + l.qty * l.unitPrice, 0));
  return {
    context: { order: { id: order.id, lines, total }, customer: order.customer },
    attachments: [
      { filename: 'logo.png', content: LOGO, cid: 'logo@mailroom.sample', contentType: 'image/png' },
      {
        filename: `invoice-${order.id}.pdf`,
        content: invoicePdf([`Invoice for order ${order.id}`, order.customer.name, ...lines.map((l) => `${l.qty} x ${l.name}  ${l.total}`), `Total ${total}`]),
        contentType: 'application/pdf',
      },
    ],
  };
}
