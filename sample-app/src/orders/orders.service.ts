import { Injectable, NotFoundException } from '@nestjs/common';

export interface OrderLine {
  name: string;
  qty: number;
  unitPrice: number;
}

export interface Order {
  id: string;
  /** `locale`: the language and region the customer chose, a BCP 47 tag. */
  customer: { name: string; email: string; locale: string };
  lines: OrderLine[];
  currency: string;
  /** When the parcel left, once it has. */
  shippedAt?: Date;
}

/** Stands in for the app's database. */
@Injectable()
export class OrdersService {
  private readonly orders = new Map<string, Order>([
    ['1001', {
      id: '1001',
      customer: { name: 'Ada Lovelace', email: 'ada@example.org', locale: 'en-GB' },
      currency: 'EUR',
      lines: [
        { name: 'Brass desk lamp', qty: 1, unitPrice: 64 },
        { name: 'Edison bulb (E27)', qty: 3, unitPrice: 7.5 },
      ],
    }],
    ['1002', {
      id: '1002',
      customer: { name: 'Grace Hopper', email: 'grace@example.org', locale: 'en-US' },
      currency: 'EUR',
      lines: [{ name: 'Notebook, dotted', qty: 2, unitPrice: 12.9 }],
    }],
    ['1003', {
      id: '1003',
      customer: { name: 'Zoé Tremblay', email: 'zoe@example.ca', locale: 'fr-CA' },
      currency: 'CAD',
      lines: [
        { name: 'Lampe de bureau en laiton', qty: 1, unitPrice: 89 },
        { name: 'Ampoule Edison (E26)', qty: 2, unitPrice: 9.5 },
      ],
      shippedAt: new Date('2026-03-02T15:30:00Z'),
    }],
  ]);

  get(id: string): Order {
    const order = this.orders.get(id);
    if (!order) throw new NotFoundException(`Order ${id} does not exist.`);
    return order;
  }
}
