// What an MJML template costs per send, compiled once at start-up against compiled on every render:
//   mailroom      HandlebarsRenderer.render('shipped', …, { locale }): MJML turned into an HTML
//                 template at start-up; a render runs Handlebars and the text template derived once
//   per-render    what an adapter that compiles MJML per send does: Handlebars over the MJML source,
//                 then mjml2html on the result, then the text part from the HTML
// Plus the one-time cost: init() of a renderer whose templates include the two MJML files.
// Same process, interleaved blocks, median of rounds. Run: npm run build && node bench/mjml.mjs
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { compile } from 'html-to-text';
import mjml2html from 'mjml';
import { HandlebarsRenderer } from 'nestjs-mailroom';

const TEMPLATES = fileURLToPath(new URL('../sample-app/templates', import.meta.url));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const RENDERS = Number(process.env.BENCH_RENDERS ?? 2000);
const LOCALE = 'fr-CA';
const shippedAt = new Date('2026-03-02T15:30:00Z');
const context = {
  customer: { name: 'Zoé Tremblay' },
  order: {
    id: '1003', currency: 'CAD', itemCount: 3, total: 108, shippedAt, expectedAt: new Date(shippedAt.getTime() + 3 * 864e5),
    trackingUrl: 'https://track.example/parcels/LUM-1003',
    lines: [{ name: 'Lampe de bureau en laiton', qty: 1, total: 89 }, { name: 'Ampoule Edison (E26)', qty: 2, total: 19 }],
  },
};

const startups = [];
for (let i = 0; i < 3; i += 1) {
  const started = process.hrtime.bigint();
  const made = new HandlebarsRenderer({ dir: TEMPLATES });
  await made.init();
  startups.push(Number(process.hrtime.bigint() - started) / 1e6);
  await made.close();
}
const renderer = new HandlebarsRenderer({ dir: TEMPLATES });
await renderer.init();
const mailroom = () => renderer.render('shipped', context, { locale: LOCALE });

// The per-render path gets the same helpers, so both print the same mail.
const file = `${TEMPLATES}/shipped.fr.mjml.hbs`;
const hb = Handlebars.create();
const data = { data: { locale: LOCALE, dir: 'ltr' } };
const money = (locale, currency) => new Intl.NumberFormat(locale, { style: 'currency', currency });
hb.registerHelper({
  currency: (value, code, options) => money(options.data.locale, typeof code === 'string' ? code : options.hash.currency).format(value),
  date: (value, options) => new Intl.DateTimeFormat(options.data.locale, Object.keys(options.hash).length ? { ...options.hash, timeZone: 'UTC' } : { dateStyle: 'medium', timeZone: 'UTC' }).format(new Date(value)),
  plural: (count, options) => (new Intl.PluralRules(options.data.locale).select(count) === 'one' ? options.hash.one : options.hash.other).replace(/#/g, String(count)),
});
const mjmlSource = hb.compile(readFileSync(file, 'utf8'));
const toText = compile({ wordwrap: false });
const perRender = async () => {
  const { html } = await mjml2html(mjmlSource(context, data), { filePath: file, ignoreIncludes: false, includePath: TEMPLATES, validationLevel: 'soft' });
  return { html, text: toText(html) };
};

const variants = { mailroom, 'per-render': perRender };
const times = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
for (const fn of Object.values(variants)) for (let i = 0; i < 50; i += 1) await fn();
for (let round = 0; round < ROUNDS; round += 1) {
  for (const [name, fn] of Object.entries(variants)) {
    const n = name === 'per-render' ? Math.ceil(RENDERS / 100) : RENDERS;
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i += 1) await fn();
    times[name].push(Number(process.hrtime.bigint() - start) / 1e3 / n);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const summary = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, { microsPerRender: Number(median(v).toFixed(1)), rendersPerSecond: Math.round(1e6 / median(v)) }]));
const out = mailroom();
console.log(`shipped (${LOCALE}, MJML): ${out.html.length} bytes of HTML, ${out.text.length} bytes of text; mode ${JSON.stringify(renderer.inlineMode('shipped', { locale: LOCALE }))}`);
console.log(`init() with the sample templates (2 MJML files, 1 Handlebars HTML): ${startups.map((ms) => ms.toFixed(0)).join(', ')} ms`);
console.table(summary);
console.log(`MJML compiled per render vs once at start-up: ${(summary['per-render'].microsPerRender / summary.mailroom.microsPerRender).toFixed(0)}x the time per mail`);
await renderer.close();
