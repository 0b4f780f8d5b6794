import { IDENTIFIER_WORDS, scoreWithContext, words, type ContextRule } from '../context';
import type { PiiEntity } from '../pii.types';
import { digitsOf, isNanpNumber, isRepeatedDigit } from '../validators';
import { entity, execAll, scan } from './detector';
import { trimToDigitCount } from './groups';

// +<country code> then digits with single separators, an optional "(0)" trunk and "(area)" groups:
// +44 20 7946 0958, +49 (0)30 901820, +1 (415) 555-0132, +33.1.23.45.67.89.
const INTERNATIONAL =
  /(?<![\w+])\+[1-9](?:[ \u00A0.\-/]?(?:\(0\)[ \u00A0.-]?)?(?:\(\d{1,5}\)|\d)){6,17}(?!\w)/g;

// Never start inside a longer digit sequence ("4990 0230 7094 9804" holds no phone).
const NOT_INSIDE = '(?<![\\w+.\\-/])(?<!\\d[ \\u00A0.\\-/])';
// Nor run into one: a further digit group means this is a longer number.
const NOT_CONTINUED = '(?![\\w\\-]|[.\\/:]\\d|[ \\u00A0]\\d)';

// North American: (415) 555-0132, 415-555-0132, 415.555.0132, 1-800-555-0199.
const NANP = new RegExp(
  `${NOT_INSIDE}(?:1[ .\\-]?)?(?:\\((\\d{3})\\)[ .\\-]?|(\\d{3})[ .\\-])(\\d{3})[ .\\-](\\d{4})${NOT_CONTINUED}`,
  'g',
);
const NANP_BARE = new RegExp(`${NOT_INSIDE}1?[2-9]\\d{9}${NOT_CONTINUED}`, 'g');

// National numbers with a trunk 0: 020 7946 0958, 07700 900123, (030) 901820, 06-12345678.
// At most five groups: "04 15 23 42 08 16" is a list of numbers, not a French phone.
const NATIONAL = new RegExp(
  `${NOT_INSIDE}(?:\\(0\\d{1,4}\\)|0\\d{1,4})(?:[ \\u00A0.\\-/]\\d{2,8}){1,4}${NOT_CONTINUED}`,
  'g',
);
// The "00" international access prefix (0044 20 7946 0958): only in grouped form, since a bare
// 00-prefixed digit run is as likely an account or order number.
const INTERNATIONAL_00 = new RegExp(
  `${NOT_INSIDE}00[1-9]\\d{0,2}(?:[ \\u00A0.\\-/](?:\\(0\\)[ \\u00A0.\\-]?)?(?:\\(\\d{1,5}\\)|\\d{1,5})){2,6}${NOT_CONTINUED}`,
  'g',
);
const NATIONAL_BARE = new RegExp(`${NOT_INSIDE}0[1-9]\\d{8,9}${NOT_CONTINUED}`, 'g');
// 078-05-1120 has the SSN shape; the SSN detector decides about it.
const SSN_SHAPE = /^\d{3}-\d{2}-\d{4}$/;

const RULE: ContextRule = {
  positive: words([
    'phone',
    'tel',
    'telephone',
    'call',
    'calling',
    'mobile',
    'cell',
    'cellphone',
    'fax',
    'contact',
    'reach',
    'ring',
    'text',
    'sms',
    'whatsapp',
    'signal',
    'number',
    'ph',
    'mob',
    'landline',
    'hotline',
    'dial',
    'telefon',
    'téléphone',
    'tél',
    'handy',
    'móvil',
    'numéro',
    'nummer',
  ]),
  negative: words([
    ...IDENTIFIER_WORDS,
    'isbn',
    'issn',
    'zip',
    'postcode',
    'bytes',
    'ms',
    'epoch',
    'timestamp',
  ]),
  boost: 0.2,
  penalty: 0.45,
};

export function detectPhones(text: string): PiiEntity[] {
  const out: PiiEntity[] = [];
  scan(INTERNATIONAL, text, (m) => {
    const end = trimToDigitCount(text, m.index, m.index + m[0].length, { min: 8, max: 15 });
    if (end < 0 || isRepeatedDigit(digitsOf(text.slice(m.index, end)))) return m.index + m[0].length;
    push(out, text, m.index, end, 0.75);
    return end;
  });
  for (const m of execAll(NANP, text)) {
    const area = m[1] ?? m[2];
    if (!isNanpNumber(area + m[3] + m[4])) continue;
    push(out, text, m.index, m.index + m[0].length, m[1] ? 0.75 : 0.7);
  }
  for (const m of execAll(NANP_BARE, text)) {
    if (!isNanpNumber(m[0].slice(-10))) continue;
    push(out, text, m.index, m.index + m[0].length, 0.3);
  }
  for (const m of execAll(NATIONAL, text)) {
    const digits = digitsOf(m[0]);
    if (digits.length < 9 || digits.length > 12 || isRepeatedDigit(digits) || SSN_SHAPE.test(m[0])) continue;
    push(out, text, m.index, m.index + m[0].length, 0.6);
  }
  for (const m of execAll(INTERNATIONAL_00, text)) {
    const digits = digitsOf(m[0]).length - 2;
    if (digits >= 8 && digits <= 15) push(out, text, m.index, m.index + m[0].length, 0.7);
  }
  for (const m of execAll(NATIONAL_BARE, text)) push(out, text, m.index, m.index + m[0].length, 0.3);
  return out;
}

function push(out: PiiEntity[], text: string, start: number, end: number, base: number): void {
  out.push(entity('PHONE', start, end, scoreWithContext(text, { start, end }, base, RULE)));
}
