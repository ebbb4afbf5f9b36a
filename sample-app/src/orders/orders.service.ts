import { Injectable, NotFoundException } from '@nestjs/common';

export interface OrderLine {
  name: string;
  qty: number;
  unitPrice: number;
}

export interface Order {
  id: string;
  customer: { name: string; email: string };
  lines: OrderLine[];
  currency: string;
}

/** Stands in for the app's database. */
@Injectable()
export class OrdersService {
  private readonly orders = new Map<string, Order>([
    ['1001', {
      id: '1001',
      customer: { name: 'Ada Lovelace', email: 'ada@example.org' },
      currency: 'EUR',
      lines: [
        { name: 'Brass desk lamp', qty: 1, unitPrice: 64 },
        { name: 'Edison bulb (E27)', qty: 3, unitPrice: 7.5 },
      ],
    }],
    ['1002', {
      id: '1002',
      customer: { name: 'Grace Hopper', email: 'grace@example.org' },
      currency: 'EUR',
      lines: [{ name: 'Notebook, dotted', qty: 2, unitPrice: 12.9 }],
    }],
  ]);

  get(id: string): Order {
    const order = this.orders.get(id);
    if (!order) throw new NotFoundException(`Order ${id} does not exist.`);
    return order;
  }
}
