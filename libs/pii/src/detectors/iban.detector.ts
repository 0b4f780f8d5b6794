import { scoreWithContext, words, type ContextRule } from '../context';
import type { PiiEntity } from '../pii.types';
import { IBAN_LENGTHS, isIbanChecksumValid } from '../validators';
import { entity, scan } from './detector';

// Country, check digits, then alphanumerics with optional single spaces/dashes (print format
// groups of four). Greedy on purpose: the country's length decides where the IBAN ends.
const IBAN = /(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[ -]?[A-Za-z0-9]){10,32}/g;

const RULE: ContextRule = {
  positive: words([
    'iban',
    'bank',
    'account',
    'acct',
    'transfer',
    'sepa',
    'bic',
    'swift',
    'wire',
    'payee',
    'konto',
  ]),
  boost: 0.05,
  penalty: 0,
};

export function detectIbans(text: string): PiiEntity[] {
  const out: PiiEntity[] = [];
  // A rejected match resumes one character later: the lookbehind only lets a new match start at
  // the next token, which may be an IBAN the greedy match ran into.
  scan(IBAN, text, (m) => {
    const found = compactIban(m[0]);
    if (!found) return m.index + 1;
    const start = m.index;
    const end = start + found.length;
    // The IBAN must end at a token boundary, not in the middle of a longer code.
    if (/[A-Za-z0-9]/.test(text.charAt(end)) || !isIbanChecksumValid(found.compact)) return m.index + 1;
    out.push(entity('IBAN', start, end, scoreWithContext(text, { start, end }, 0.9, RULE)));
    return end;
  });
  return out;
}

/** Consumes exactly the country's IBAN length of alphanumerics; null when the match is shorter. */
function compactIban(raw: string): { compact: string; length: number } | null {
  const expected = IBAN_LENGTHS[raw.slice(0, 2).toUpperCase()];
  if (expected === undefined) return null;
  let compact = '';
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i];
    if (ch === ' ' || ch === '-') continue;
    compact += ch.toUpperCase();
    if (compact.length === expected) return { compact, length: i + 1 };
  }
  return null;
}
