import { readFileSync } from 'node:fs';
import type { AttachmentInput, Mail } from 'nestjs-mailroom';
import type { Order } from './orders.service.js';

const LOGO = readFileSync(new URL('../../assets/logo.png', import.meta.url));
const DAY = 24 * 60 * 60 * 1000;

/**
 * The "your order is on its way" mail for an order: the `shipped` MJML template in the customer's
 * locale. The context holds numbers and dates as they are; the template formats them for that
 * locale (`{{currency}}`, `{{date}}`, `{{plural}}`).
 */
export function shippedMail(order: Order, shippedAt = order.shippedAt ?? new Date()): Mail & { context: Record<string, unknown>; attachments: AttachmentInput[] } {
  const lines = order.lines.map((l) => ({ name: l.name, qty: l.qty, total: l.qty * l.unitPrice }));
  return {
    to: { name: order.customer.name, address: order.customer.email },
    template: 'shipped',
    locale: order.customer.locale,
    context: {
      customer: { name: order.customer.name },
      order: {
        id: order.id,
        currency: order.currency,
        lines,
        itemCount: order.lines.reduce((sum, l) => sum + l.qty, 0),
        total: lines.reduce((sum, l) => sum + l.total, 0),
        shippedAt,
        expectedAt: new Date(shippedAt.getTime() + 3 * DAY),
        trackingUrl: `https://track.example/parcels/LUM-${order.id}`,
      },
    },
    attachments: [{ filename: 'logo.png', content: LOGO, cid: 'logo@mailroom.sample', contentType: 'image/png' }],
  };
}
