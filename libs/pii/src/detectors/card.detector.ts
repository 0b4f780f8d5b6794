import { IDENTIFIER_WORDS, scoreWithContext, words, type ContextRule } from '../context';
import type { PiiEntity } from '../pii.types';
import { isCreditCardNumber } from '../validators';
import { entity, scan } from './detector';

// 12–19 digits, optionally grouped by single spaces or dashes (4-4-4-4, 4-6-5 Amex, …).
const CARD = /(?<![\w.\-/+,])\d(?:[ -]?\d){11,22}(?![\w]|[.,\-/]\d)/g;

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
    'diners',
    'cc',
    'ccn',
    'pan',
    'payment',
    'pay',
    'charge',
    'billing',
    'cvv',
    'cvc',
    'exp',
    'expiry',
    'expires',
  ]),
  negative: words([...IDENTIFIER_WORDS, 'imei', 'iccid', 'awb', 'waybill', 'barcode', 'ean', 'gtin', 'upc']),
  boost: 0.15,
  penalty: 0.45,
};

export function detectCreditCards(text: string): PiiEntity[] {
  const out: PiiEntity[] = [];
  scan(CARD, text, (m) => {
    const span = validSpan(m[0]);
    if (!span) return m.index + m[0].length;
    const start = m.index;
    const end = start + span;
    out.push(entity('CREDIT_CARD', start, end, scoreWithContext(text, { start, end }, 0.8, RULE)));
    return end;
  });
  return out;
}

/**
 * A match may run into a following number ("4242 4242 4242 4242 1227"). Tries the whole match,
 * then shorter prefixes ending at a group boundary; one separator style per number.
 * Returns the length of the valid prefix, or 0.
 */
function validSpan(raw: string): number {
  const hasSpace = raw.includes(' ');
  const hasDash = raw.includes('-');
  let cut = raw.length;
  while (cut > 0) {
    const candidate = raw.slice(0, cut);
    const mixed = hasSpace && hasDash && candidate.includes(' ') && candidate.includes('-');
    const digits = candidate.replace(/[ -]/g, '');
    if (!mixed && isCreditCardNumber(digits)) return cut;
    cut = Math.max(candidate.lastIndexOf(' '), candidate.lastIndexOf('-'));
  }
  return 0;
}
