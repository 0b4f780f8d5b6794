import { IDENTIFIER_WORDS, scoreWithContext, words, type ContextRule } from '../context';
import type { PiiEntity } from '../pii.types';
import { isUsSsn } from '../validators';
import { entity, execAll } from './detector';

// 123-45-6789 or 123 45 6789 (same separator twice), or 9 bare digits (context needed).
const SSN = /(?<![\w.\-/+])(\d{3})([ -])(\d{2})\2(\d{4})(?![\w-]|[./]\d)/g;
const SSN_BARE = /(?<![\w.\-/+])\d{9}(?![\w-]|[./]\d)/g;

const RULE: ContextRule = {
  positive: words([
    'ssn',
    'ss#',
    'ss no',
    'social security',
    'social security number',
    'soc sec',
    'social',
    'taxpayer',
    'tin',
    'tax id',
    'ssa',
  ]),
  negative: words([...IDENTIFIER_WORDS, 'phone', 'tel', 'routing', 'aba', 'zip']),
  boost: 0.35,
  penalty: 0.45,
};

export function detectSsns(text: string): PiiEntity[] {
  const out: PiiEntity[] = [];
  for (const m of execAll(SSN, text)) {
    if (!isUsSsn(m[1] + m[3] + m[4])) continue;
    push(out, text, m.index, m.index + m[0].length, m[2] === '-' ? 0.6 : 0.4);
  }
  for (const m of execAll(SSN_BARE, text)) {
    if (isUsSsn(m[0])) push(out, text, m.index, m.index + m[0].length, 0.2);
  }
  return out;
}

function push(out: PiiEntity[], text: string, start: number, end: number, base: number): void {
  out.push(entity('US_SSN', start, end, scoreWithContext(text, { start, end }, base, RULE)));
}
