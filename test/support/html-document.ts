import { DomUtils, parseDocument } from 'htmlparser2';

type Element = ReturnType<typeof DomUtils.findAll>[number];

/** A mail's HTML as a browser would see it: elements, attributes and the kept style sheet. */
export interface HtmlDocument {
  /** Every element of that name, in document order. */
  elements(name: string): Element[];
  /** Elements whose class attribute contains `name`. */
  withClass(name: string): Element[];
  /** The `<style>` elements, with their parent element's name. */
  styles(): Array<{ parent: string; css: string }>;
  /** The declarations of an element's style attribute, `{ width: '50%' }`. */
  inlineStyle(element: Element): Record<string, string>;
}

export function parseHtml(html: string): HtmlDocument {
  const document = parseDocument(html);
  const all = DomUtils.findAll(() => true, document.children);
  return {
    elements: (name) => all.filter((element) => element.name === name),
    withClass: (name) => all.filter((element) => (element.attribs['class'] ?? '').split(/\s+/).includes(name)),
    styles: () =>
      all
        .filter((element) => element.name === 'style')
        .map((element) => ({ parent: (element.parent as Element | null)?.name ?? '', css: DomUtils.textContent(element) })),
    inlineStyle: (element) => {
      const declarations: Record<string, string> = {};
      for (const declaration of (element.attribs['style'] ?? '').split(';')) {
        const colon = declaration.indexOf(':');
        if (colon > 0) declarations[declaration.slice(0, colon).trim()] = declaration.slice(colon + 1).trim();
      }
      return declarations;
    },
  };
}
