import type { MailTemplateFunction } from './function.renderer.js';

const escape = (value: unknown): string =>
  String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A welcome mail in English, or in French for any French locale. */
export const welcome: MailTemplateFunction = ({ name }, { locale }) => {
  const french = locale?.split('-')[0] === 'fr';
  const greeting = french ? `Bienvenue, ${name} !` : `Welcome, ${name}!`;
  return {
    subject: greeting,
    html: `<html lang="${escape(locale ?? 'en')}"><body><img src="cid:logo" alt="Lumen"><h1>${escape(greeting)}</h1></body></html>`,
    text: greeting,
  };
};
