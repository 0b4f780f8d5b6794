import { IDENTIFIER_WORDS, scoreWithContext, words, type ContextRule } from '../context';
import type { PiiEntity } from '../pii.types';
import { isCreditCardNumber } from '../validators';
import { entity, scan } from './detector';

/**
 * A card as people write it: 12–19 digits bare, or in groups joined by ONE kind of separator
 * (space, no-break space, dash or dot): 4111 1111 1111 1111, 3782-822463-10005,
 * 4111.1111.1111.1111, 6212 3456 7890 1234 569. The first group has at least 4 digits, so a run
 * of single digits ("1 1 1 1 …") is never a candidate. Up to 8 groups: a card may run into an
 * expiry or a second card, and validSpan keeps the valid prefix.
 *
 * Left: never inside a word, a longer number or a path (letters, digits, `_`, `+`, `/`), nor right
 * after a digit and `.`, `-` or `:` (decimals, dashed ids, times). Punctuation and words around it
 * are fine: `card:4111…`, `(5555-…)`, `"pan":"…"`, CSV commas, `no.4111…`.
 * Right: never followed by a letter, digit or `_`.
 */
const CARD =
  /(?<![\p{L}\p{N}_+/])(?<!\p{N}[.\-:])\d{4,19}(?:([ \u00A0.-])\d{1,8}(?:\1\d{1,8}){0,6})?(?![\p{L}\p{N}_])/gu;

const RULE: ContextRule = {
  positive: words([
    'card',
    'credit',
    'debit',
    'visa',
    'mastercard',
    'master card',
    'amex',
    'american express',
    'discover',
    'jcb',
    'maestro',
    'unionpay',
    'union pay',
    'diners',
    'cc',
    'ccn',
    'pan',
    'payment',
    'pay',
    'paid',
    'charge',
    'charged',
    'billing',
    'cvv',
    'cvc',
    'exp',
    'expiry',
    'expires',
  ]),
  negative: words([
    ...IDENTIFIER_WORDS,
    'imei',
    'iccid',
    'awb',
    'waybill',
    'barcode',
    'ean',
    'gtin',
    'upc',
    'phone',
    'tel',
    'fax',
    'timestamp',
    'epoch',
  ]),
  boost: 0.15,
  penalty: 0.45,
};

export function detectCreditCards(text: string): PiiEntity[] {
  const out: PiiEntity[] = [];
  scan(CARD, text, (m) => {
    const span = validSpan(m[0], m[1]);
    if (!span) return m.index + m[0].length;
    const start = m.index;
    const end = start + span;
    out.push(entity('CREDIT_CARD', start, end, scoreWithContext(text, { start, end }, 0.8, RULE)));
    return end;
  });
  return out;
}

/**
 * The longest valid card at the start of a candidate, in whole groups ("4242 4242 4242 4242 1227"
 * → the first four). Returns its length in characters, or 0. A bare digit run never gives up
 * trailing `.`/`-` groups: "4532015112830366-2" and "….5" are longer tokens, not cards.
 */
function validSpan(raw: string, separator: string | undefined): number {
  if (!separator) return isCreditCardNumber(raw) ? raw.length : 0;
  const groups = raw.split(separator);
  let digits = groups.join('');
  let length = raw.length;
  for (let n = groups.length; n >= 1; n--) {
    if (n === 1 && separator !== ' ' && separator !== '\u00A0') return 0;
    if (digits.length <= 19 && isCreditCardNumber(digits)) return length;
    const last = groups[n - 1]!;
    digits = digits.slice(0, digits.length - last.length);
    length -= last.length + 1;
  }
  return 0;
}
