// Render-only throughput of a templated receipt (layout, partial per line, subject template):
//   handlebars          plain precompiled Handlebars: HTML + subject, no CSS inlining, no text part
//   mailroom            HandlebarsRenderer: subject + HTML with CSS inlined + text part (both prepared at start-up)
//   naive               what doing the same work per render costs: Handlebars, then css-inline and html-to-text
// Same process, interleaved blocks, median of rounds. Run: npm run build && node bench/render.mjs
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { inline } from '@css-inline/css-inline';
import Handlebars from 'handlebars';
import { compile } from 'html-to-text';
import { HandlebarsRenderer } from 'nestjs-mailroom';
import { receiptContext } from './support/receipt.mjs';

const TEMPLATES = fileURLToPath(new URL('../sample-app/templates', import.meta.url));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const RENDERS = Number(process.env.BENCH_RENDERS ?? 5000);
const context = receiptContext();

const hb = Handlebars.create();
hb.registerPartial('line', readFileSync(`${TEMPLATES}/partials/line.hbs`, 'utf8'));
const body = hb.compile(readFileSync(`${TEMPLATES}/receipt.hbs`, 'utf8'));
const layout = hb.compile(readFileSync(`${TEMPLATES}/layouts/main.hbs`, 'utf8'));
const subject = hb.compile(readFileSync(`${TEMPLATES}/receipt.subject.hbs`, 'utf8'), { noEscape: true });
const plain = () => ({ subject: subject(context), html: layout({ ...context, body: new hb.SafeString(body(context)) }) });
const toText = compile({ wordwrap: false });
const naive = () => {
  const { subject: s, html } = plain();
  const inlined = inline(html, { loadRemoteStylesheets: false });
  return { subject: s, html: inlined, text: toText(inlined) };
};
const renderer = new HandlebarsRenderer({ dir: TEMPLATES });
await renderer.init();
const mailroom = () => renderer.render('receipt', context);

const variants = { handlebars: plain, mailroom, naive };
const times = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
for (const fn of Object.values(variants)) for (let i = 0; i < 500; i += 1) fn();
for (let round = 0; round < ROUNDS; round += 1) {
  for (const [name, fn] of Object.entries(variants)) {
    const n = name === 'naive' ? Math.ceil(RENDERS / 20) : RENDERS;
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i += 1) fn();
    times[name].push(Number(process.hrtime.bigint() - start) / 1e3 / n);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const summary = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, { microsPerRender: Number(median(v).toFixed(1)), rendersPerSecond: Math.round(1e6 / median(v)) }]));
const out = mailroom();
console.log(`receipt: ${out.html.length} bytes of HTML (CSS inlined), ${out.text.length} bytes of text; mode ${JSON.stringify(renderer.inlineMode('receipt'))}`);
console.table(summary);
console.log(`mailroom render vs plain Handlebars: ${(summary.mailroom.microsPerRender / summary.handlebars.microsPerRender).toFixed(2)}x the time (it also inlines CSS and makes the text part)`);
console.log(`naive per-render inlining + text vs mailroom: ${(summary.naive.microsPerRender / summary.mailroom.microsPerRender).toFixed(1)}x the time`);
await renderer.close();
