import type { PiiEntity } from '../pii.types';
import { isJwtHeader } from '../validators';
import { entity, execAll } from './detector';

interface SecretPattern {
  /** Needles checked with `includes` before running the regex: most texts contain no secret. */
  hints: readonly string[];
  re: RegExp;
  score: number;
  /** Extra check on the matched text (placeholders like sk-XXXX… are not secrets). */
  valid?: (value: string) => boolean;
  /** Capture group holding the secret when the regex also matches its label. */
  group?: number;
}

// Tokens are delimited by anything that cannot be part of a token.
const B = '(?<![A-Za-z0-9_\\-])';
const E = '(?![A-Za-z0-9_\\-])';
const re = (body: string, flags = 'g'): RegExp => new RegExp(`${B}${body}${E}`, flags);

/** Real keys are random: they mix letters and digits. `sk-your-key-here` does not. */
function looksRandom(value: string): boolean {
  return /\d/.test(value) && /[A-Za-z]/.test(value) && !/(.)\1{7}/.test(value);
}

// AWS access key ids: AKIA long-term, ASIA temporary (STS), the rest are other IAM unique ids.
const AWS_KEY_PREFIXES = [
  'AKIA',
  'ASIA',
  'ABIA',
  'ACCA',
  'AIDA',
  'AROA',
  'AIPA',
  'ANPA',
  'ANVA',
  'APKA',
  'AGPA',
];

const PATTERNS: readonly SecretPattern[] = [
  {
    hints: AWS_KEY_PREFIXES,
    re: re(`(?:${AWS_KEY_PREFIXES.join('|')})[A-Z0-9]{16}`),
    score: 0.95,
    valid: looksRandom,
  },
  {
    hints: ['aws_secret', 'AWS_SECRET'],
    re: /aws_secret_access_key["']?\s*[:=]\s*["']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])/dgi,
    score: 0.95,
    group: 1,
  },
  // OpenAI (sk-, sk-proj-, sk-svcacct-, sk-admin-) and Anthropic (sk-ant-api03-…).
  {
    hints: ['sk-'],
    re: re('sk-(?:proj-|svcacct-|admin-|ant-)?[A-Za-z0-9_\\-]{20,}'),
    score: 0.9,
    valid: looksRandom,
  },
  {
    hints: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_'],
    re: re('gh[pousr]_[A-Za-z0-9]{36,255}'),
    score: 0.95,
    valid: looksRandom,
  },
  { hints: ['github_pat_'], re: re('github_pat_[A-Za-z0-9_]{50,255}'), score: 0.95, valid: looksRandom },
  { hints: ['glpat-'], re: re('glpat-[A-Za-z0-9_\\-]{20,}'), score: 0.95, valid: looksRandom },
  { hints: ['xox'], re: re('xox[abposre]-[A-Za-z0-9\\-]{10,}'), score: 0.9, valid: looksRandom },
  { hints: ['xapp-'], re: re('xapp-\\d-[A-Za-z0-9\\-]{10,}'), score: 0.9, valid: looksRandom },
  {
    hints: ['hooks.slack.com'],
    re: /https:\/\/hooks\.slack\.com\/services\/T[A-Z0-9]+\/B[A-Z0-9]+\/[A-Za-z0-9]+/g,
    score: 0.95,
  },
  { hints: ['AIza'], re: re('AIza[0-9A-Za-z_\\-]{35}'), score: 0.95, valid: looksRandom },
  {
    hints: ['sk_live_', 'sk_test_', 'rk_live_', 'rk_test_'],
    re: re('(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,}'),
    score: 0.95,
    valid: looksRandom,
  },
  { hints: ['whsec_'], re: re('whsec_[A-Za-z0-9+/=]{24,}'), score: 0.9, valid: looksRandom },
  { hints: ['hf_'], re: re('hf_[A-Za-z0-9]{30,}'), score: 0.9, valid: looksRandom },
  { hints: ['npm_'], re: re('npm_[A-Za-z0-9]{36}'), score: 0.9, valid: looksRandom },
  { hints: ['SG.'], re: re('SG\\.[A-Za-z0-9_\\-]{16,32}\\.[A-Za-z0-9_\\-]{16,64}'), score: 0.9 },
  // ATP's own API keys (CONTRACT §3): `atp_` + high-entropy tail. Metric names such as
  // atp_http_requests_total have no digits and are skipped by looksRandom.
  { hints: ['atp_'], re: re('atp_[A-Za-z0-9_\\-]{20,}'), score: 0.9, valid: looksRandom },
  {
    hints: ['eyJ'],
    re: re('eyJ[A-Za-z0-9_\\-]{5,}\\.eyJ[A-Za-z0-9_\\-]{5,}\\.[A-Za-z0-9_\\-]*'),
    score: 0.95,
    valid: (v) => isJwtHeader(v.slice(0, v.indexOf('.'))),
  },
  // PEM private keys, also inside JSON strings where newlines are the two characters `\n`. The
  // body may hold "Proc-Type:"/"DEK-Info:" headers but never "-----" (so a BEGIN without END
  // cannot scan into the next block: linear time on many BEGIN lines).
  {
    hints: ['PRIVATE KEY'],
    re: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?:[A-Za-z0-9+/=\s:,]|-(?!----)|\\[nr])*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/g,
    score: 1,
  },
  // A truncated block (pasted without its END line): the base64 that follows, at least one
  // 16-character run of it (a bare BEGIN line mentioned in prose is not a key).
  {
    hints: ['PRIVATE KEY'],
    re: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?:\s|\\[nr])*[A-Za-z0-9+/=]{16,}(?:[A-Za-z0-9+/=\s]|\\[nr])*/g,
    score: 0.9,
  },
];

// One pass over the text answers "could any secret be here?" for the common case of none.
const ANY_HINT = new RegExp(
  [...new Set(PATTERNS.flatMap((p) => p.hints))]
    .map((h) => h.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('|'),
);

export function detectSecrets(text: string): PiiEntity[] {
  if (!ANY_HINT.test(text)) return [];
  const out: PiiEntity[] = [];
  for (const p of PATTERNS) {
    if (!p.hints.some((h) => text.includes(h))) continue;
    for (const m of execAll(p.re, text)) {
      const span = p.group ? m.indices?.[p.group] : [m.index, m.index + m[0].length];
      if (!span) continue;
      const [start, end] = span;
      if (p.valid && !p.valid(text.slice(start, end))) continue;
      out.push(entity('SECRET', start, trimTrailingSpace(text, start, end), p.score));
    }
  }
  return out;
}

/** The truncated-PEM pattern swallows trailing whitespace; offsets stop at the last key byte. */
function trimTrailingSpace(text: string, start: number, end: number): number {
  let e = end;
  while (e > start && /\s/.test(text.charAt(e - 1))) e--;
  return e;
}
