import Handlebars from 'handlebars';
import { lineOffsets, offsetOf } from './template-source.js';

/** Name of the private block helper that gives an expanded partial the context a partial call would. */
export const PARTIAL_SCOPE_HELPER = '__mailroom_partial_scope';

export type Combined = { ok: true; source: string } | { ok: false; reason: string };

const MAX_PARTIAL_DEPTH = 8;

/**
 * One Handlebars source for a whole mail: the layout with the template put where `{{{body}}}`
 * was, and every static partial call replaced by the partial's source. That is the HTML the
 * stylesheet and the text converter need to see at compile time. Returns a reason instead when
 * the result could behave differently from rendering the pieces separately.
 */
export function combineSource(
  template: string,
  layout: string | undefined,
  partials: ReadonlyMap<string, string>,
): Combined {
  let source = template;
  if (layout !== undefined) {
    const placed = placeInLayout(layout, template);
    if (!placed.ok) return placed;
    source = placed.source;
  }
  return expandPartials(source, partials, 0);
}

function placeInLayout(layout: string, template: string): Combined {
  const ast = Handlebars.parseWithoutProcessing(layout);
  const offsets = lineOffsets(layout);
  let bodyReferences = 0;
  class BodyCounter extends Handlebars.Visitor {
    override PathExpression(path: hbs.AST.PathExpression): void {
      if (path.parts[0] === 'body' && path.depth === 0 && !path.data) bodyReferences++;
    }
  }
  new BodyCounter().accept(ast);
  const slots = ast.body.filter(
    (node): node is hbs.AST.MustacheStatement =>
      node.type === 'MustacheStatement' &&
      (node as hbs.AST.MustacheStatement).path.type === 'PathExpression' &&
      ((node as hbs.AST.MustacheStatement).path as hbs.AST.PathExpression).original === 'body' &&
      (node as hbs.AST.MustacheStatement).params.length === 0 &&
      !(node as hbs.AST.MustacheStatement).hash,
  );
  const slot = slots[0];
  if (slots.length !== 1 || bodyReferences !== 1 || !slot) {
    return { ok: false, reason: 'the layout does not use {{{body}}} exactly once at its top level' };
  }
  if (slot.escaped) return { ok: false, reason: 'the layout escapes the body ({{body}} instead of {{{body}}})' };
  if (slot.strip.open || slot.strip.close) return { ok: false, reason: 'the layout strips whitespace around {{{body}}}' };
  const start = offsetOf(offsets, slot.loc.start);
  const end = offsetOf(offsets, slot.loc.end);
  return { ok: true, source: layout.slice(0, start) + template + layout.slice(end) };
}

interface PartialCall {
  node: hbs.AST.PartialStatement;
  inBlockParamsScope: boolean;
}

function expandPartials(source: string, partials: ReadonlyMap<string, string>, depth: number): Combined {
  const ast = Handlebars.parseWithoutProcessing(source);
  const offsets = lineOffsets(source);
  const calls: PartialCall[] = [];
  let problem: string | undefined;
  let blockParamsDepth = 0;

  class PartialFinder extends Handlebars.Visitor {
    override PartialStatement(node: hbs.AST.PartialStatement): void {
      calls.push({ node, inBlockParamsScope: blockParamsDepth > 0 });
    }
    override PartialBlockStatement(): void {
      problem ??= 'it uses a partial block ({{#> partial}})';
    }
    override DecoratorBlock(): void {
      problem ??= 'it uses an inline partial or decorator ({{#*inline}})';
    }
    override Decorator(): void {
      problem ??= 'it uses a decorator';
    }
    override BlockStatement(node: hbs.AST.BlockStatement): void {
      const scoped = (node.program?.blockParams?.length ?? 0) > 0 || (node.inverse?.blockParams?.length ?? 0) > 0;
      if (scoped) blockParamsDepth++;
      super.BlockStatement(node);
      if (scoped) blockParamsDepth--;
    }
  }
  new PartialFinder().accept(ast);
  if (problem) return { ok: false, reason: problem };
  if (calls.length === 0) return { ok: true, source };
  if (depth >= MAX_PARTIAL_DEPTH) return { ok: false, reason: 'partials nest too deeply (recursive partial?)' };

  const replacements: Array<{ start: number; end: number; text: string }> = [];
  for (const { node, inBlockParamsScope } of calls) {
    const name = partialName(node.name);
    if (name === undefined) return { ok: false, reason: 'it calls a dynamic partial' };
    const partial = partials.get(name);
    if (partial === undefined) return { ok: false, reason: `partial "${name}" is not registered` };
    if (inBlockParamsScope) return { ok: false, reason: `partial "${name}" is called inside a block with block parameters` };
    if (node.params.length > 1) return { ok: false, reason: `partial "${name}" is called with more than one context` };
    const unsafe = partialProblem(partial);
    if (unsafe) return { ok: false, reason: `partial "${name}" ${unsafe}` };
    const expanded = expandPartials(partial, partials, depth + 1);
    if (!expanded.ok) return expanded;

    const start = offsetOf(offsets, node.loc.start);
    const end = offsetOf(offsets, node.loc.end);
    const param = node.params[0];
    let text = expanded.source;
    if (param || node.hash) {
      const args = [param, node.hash]
        .filter((part): part is hbs.AST.Expression | hbs.AST.Hash => part !== undefined)
        .map((part) => source.slice(offsetOf(offsets, part.loc.start), offsetOf(offsets, part.loc.end)))
        .join(' ');
      text = `{{#${PARTIAL_SCOPE_HELPER} ${args}}}${text}{{/${PARTIAL_SCOPE_HELPER}}}`;
    }
    replacements.push({ start, end, text });
  }
  let out = source;
  for (const { start, end, text } of replacements.sort((a, b) => b.start - a.start)) {
    out = out.slice(0, start) + text + out.slice(end);
  }
  return { ok: true, source: out };
}

function partialName(name: hbs.AST.PathExpression | hbs.AST.SubExpression | hbs.AST.Expression): string | undefined {
  if (name.type === 'PathExpression') return (name as hbs.AST.PathExpression).original;
  if (name.type === 'StringLiteral' || name.type === 'NumberLiteral') {
    return String((name as hbs.AST.StringLiteral).value);
  }
  return undefined;
}

/** Things a partial may do that only mean the same when it runs as a separate template. */
function partialProblem(source: string): string | undefined {
  let problem: string | undefined;
  class Checker extends Handlebars.Visitor {
    override PathExpression(path: hbs.AST.PathExpression): void {
      if (path.depth > 0) problem ??= 'refers to a parent context (../)';
      if (path.data && path.parts[0] === 'partial-block') problem ??= 'uses @partial-block';
    }
  }
  new Checker().accept(Handlebars.parseWithoutProcessing(source));
  return problem;
}
