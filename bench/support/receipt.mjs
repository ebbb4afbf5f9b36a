// The context of a realistic receipt: eight lines, rendered to about 3 KB of HTML.
export function receiptContext() {
  const money = new Intl.NumberFormat('en-IE', { style: 'currency', currency: 'EUR' });
  const items = [
    ['Brass desk lamp', 1, 64], ['Edison bulb (E27)', 3, 7.5], ['Linen lampshade, sand', 1, 29],
    ['Braided cable, 2 m', 2, 11.9], ['Dimmer switch', 1, 18.5], ['Wall bracket, matte black', 2, 9.95],
    ['Ceiling rose', 1, 6.4], ['Gift wrapping', 1, 3],
  ];
  const lines = items.map(([name, qty, price]) => ({ name, qty, unitPrice: money.format(price), total: money.format(qty * price) }));
  const total = money.format(items.reduce((sum, [, qty, price]) => sum + qty * price, 0));
  return { order: { id: '1001', lines, total }, customer: { name: 'Ada Lovelace', email: 'ada@example.org' } };
}
