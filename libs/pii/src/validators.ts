import { isIPv4, isIPv6 } from 'node:net';

/** Small pure checks that turn a regex candidate into a finding. No allocation-heavy work here. */

/** Luhn (mod 10) over a string of digits only. */
export function isLuhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    const code = digits.charCodeAt(i) - 48;
    if (code < 0 || code > 9) return false;
    let d = code;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits.length > 0 && sum % 10 === 0;
}

/**
 * Issuer prefixes and lengths of the major networks (Visa, Mastercard incl. 2-series, Amex,
 * Discover, JCB, Diners, UnionPay, Maestro). Luhn alone passes 1 in 10 random numbers; the
 * prefix/length pair removes most of the rest (order numbers starting with 1, 7, 8, 9, 0).
 */
export function hasCardIssuerPrefix(digits: string): boolean {
  const len = digits.length;
  const p2 = Number(digits.slice(0, 2));
  const p3 = Number(digits.slice(0, 3));
  const p4 = Number(digits.slice(0, 4));
  if (digits[0] === '4') return len === 13 || len === 16 || len === 19;
  if (p2 >= 51 && p2 <= 55) return len === 16;
  if (p4 >= 2221 && p4 <= 2720) return len === 16;
  if (p2 === 34 || p2 === 37) return len === 15;
  if (p4 === 6011 || p2 === 65 || (p3 >= 644 && p3 <= 649)) return len >= 16 && len <= 19;
  if (p4 >= 3528 && p4 <= 3589) return len >= 16 && len <= 19;
  if (p2 === 36 || p2 === 38 || p2 === 39 || p4 === 3095 || (p3 >= 300 && p3 <= 305)) {
    return len >= 14 && len <= 19;
  }
  // UnionPay: 62, and 8100–8171 since 2016.
  if (p2 === 62 || (p4 >= 8100 && p4 <= 8171)) return len >= 16 && len <= 19;
  if (p2 === 50 || (p2 >= 56 && p2 <= 69)) return len >= 12 && len <= 19;
  return false;
}

/** A number made of one repeated digit (0000 0000 0000 0000 passes Luhn) is a placeholder. */
export function isRepeatedDigit(digits: string): boolean {
  return /^(\d)\1*$/.test(digits);
}

export function isCreditCardNumber(digits: string): boolean {
  return (
    digits.length >= 12 &&
    digits.length <= 19 &&
    !isRepeatedDigit(digits) &&
    hasCardIssuerPrefix(digits) &&
    isLuhnValid(digits)
  );
}

/** IBAN length per country (ISO 13616 registry). A wrong length is rejected before mod-97. */
// prettier-ignore
export const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28,
  CH: 21, CR: 22, CY: 28, CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18,
  FK: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HR: 21, HU: 28, IE: 22,
  IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20,
  LV: 21, LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MN: 20, MR: 27, MT: 31, MU: 30, NI: 28, NL: 18,
  NO: 15, OM: 23, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, RU: 33, SA: 24, SC: 31,
  SD: 18, SE: 24, SI: 19, SK: 24, SM: 27, SO: 23, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29,
  VA: 22, VG: 24, XK: 20, YE: 30,
};

/** ISO 7064 mod 97-10 over a compact (no spaces), upper-case IBAN. */
export function isIbanChecksumValid(iban: string): boolean {
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]+$/.test(iban)) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let rem = 0;
  for (let i = 0; i < rearranged.length; i++) {
    const c = rearranged.charCodeAt(i);
    // Letters count as two digits (A=10 … Z=35); fold digit by digit to stay within a double.
    const v = c >= 65 ? c - 55 : c - 48;
    rem = v >= 10 ? (rem * 100 + v) % 97 : (rem * 10 + v) % 97;
  }
  return rem === 1;
}

export function isIban(compact: string): boolean {
  const len = IBAN_LENGTHS[compact.slice(0, 2)];
  return len !== undefined && compact.length === len && isIbanChecksumValid(compact);
}

/** Numbers published or widely misused as examples (SSA: never validly assigned to a person). */
const KNOWN_INVALID_SSNS = new Set(['078051120', '219099999', '457555462']);

/**
 * US SSN structural rules (SSA, post-2011 randomisation still keeps these): area 000, 666 and
 * 900–999 are never issued, group 00 and serial 0000 are never issued.
 */
export function isUsSsn(digits: string): boolean {
  if (!/^\d{9}$/.test(digits) || isRepeatedDigit(digits) || KNOWN_INVALID_SSNS.has(digits)) return false;
  const area = digits.slice(0, 3);
  if (area === '000' || area === '666' || area[0] === '9') return false;
  return digits.slice(3, 5) !== '00' && digits.slice(5) !== '0000';
}

export function isIpv4Address(s: string): boolean {
  return isIPv4(s);
}

/** Parsed by node:net; `::` alone and hex-only words like `dead::beef` are not reported. */
export function isIpv6Address(s: string): boolean {
  return isIPv6(s) && /\d/.test(s) && s !== '::';
}

/**
 * North American Numbering Plan: area code and exchange start with 2–9, and neither is an
 * N11 service code (211, 311 … 911).
 */
export function isNanpNumber(tenDigits: string): boolean {
  if (!/^[2-9]\d{2}[2-9]\d{6}$/.test(tenDigits)) return false;
  return tenDigits.slice(1, 3) !== '11' && tenDigits.slice(4, 6) !== '11';
}

/** A JWT's first segment decodes to a JSON object with an `alg`. */
export function isJwtHeader(segment: string): boolean {
  try {
    const header: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof header === 'object' && header !== null && 'alg' in header;
  } catch {
    return false;
  }
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** A calendar date a living person could be born on (1900 to the current year). */
export function isPlausibleBirthDate(year: number, month: number, day: number, now = new Date()): boolean {
  if (year < 1900 || year > now.getUTCFullYear() || month < 1 || month > 12 || day < 1) return false;
  if (month === 2 && day === 29) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return day <= DAYS_IN_MONTH[month - 1];
}

/** Digits only, e.g. for Luhn over `4242 4242-4242 4242`. */
export function digitsOf(s: string): string {
  return s.replace(/\D/g, '');
}
