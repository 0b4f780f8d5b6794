/**
 * Context words: the few words around a candidate move its score. "SSN 123-45-6789" is far more
 * likely an SSN than "ticket 123-45-6789". Only candidates pay for this (it is not a text scan).
 */
export interface ContextRule {
  /** Words that make the type more likely; matched on whole words, case-insensitive. */
  positive?: RegExp;
  /** Words that make it a product code, version, order number … */
  negative?: RegExp;
  boost: number;
  penalty: number;
}

/** Characters inspected before and after a candidate. */
const BEFORE = 48;
const AFTER = 24;

/**
 * Builds a case-insensitive whole-word matcher from a word list. Underscores and dashes separate
 * words too, so `date_of_birth=` and `user-phone:` (keys in logs and JSON) count as context.
 */
export function words(list: readonly string[]): RegExp {
  const escaped = list.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/ /g, '[\\s_\\-]+'));
  return new RegExp(`(?:^|[^\\p{L}\\p{N}])(?:${escaped.join('|')})(?=$|[^\\p{L}\\p{N}])`, 'iu');
}

/** Whether `re` matches near [start, end); `limits` can narrow the window (e.g. to stop at a neighbour). */
export function hasContext(
  text: string,
  start: number,
  end: number,
  re: RegExp,
  limits: { from?: number; to?: number } = {},
): boolean {
  const before = text.slice(Math.max(0, start - BEFORE, limits.from ?? 0), start);
  const after = text.slice(end, Math.min(end + AFTER, limits.to ?? text.length));
  return re.test(before) || re.test(after);
}

/** Applies a rule to a base score; the result stays within 0..1 and keeps 2 decimals. */
export function scoreWithContext(
  text: string,
  span: { start: number; end: number },
  base: number,
  rule: ContextRule,
): number {
  let score = base;
  if (rule.positive && hasContext(text, span.start, span.end, rule.positive)) score += rule.boost;
  if (rule.negative && hasContext(text, span.start, span.end, rule.negative)) score -= rule.penalty;
  return Math.round(Math.min(1, Math.max(0, score)) * 100) / 100;
}

/** Words that turn any number into an identifier of a thing rather than a person. */
export const IDENTIFIER_WORDS = [
  'order',
  'order no',
  'order number',
  'order id',
  'invoice',
  'sku',
  'part no',
  'part number',
  'model',
  'serial',
  'ref',
  'reference',
  'ticket',
  'isbn',
  'catalog',
  'catalogue',
  'item',
  'product',
  'product code',
  'tracking',
  'shipment',
  'build',
  'version',
  'release',
  'batch',
  'transaction',
  'txn',
  'confirmation',
  'request id',
  'trace id',
  'user id',
  'account id',
];
