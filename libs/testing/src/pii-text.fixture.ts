/**
 * Large texts with mixed PII for load and linearity tests: prose, log lines and JSON-ish
 * fragments holding emails, phones, Luhn-valid cards, SSNs, IBANs, IPs, provider-shaped keys and
 * birth dates, plus hard negatives (order numbers, timestamps, versions). Deterministic for a seed.
 * No alias imports: bench scripts load this file with a bare TypeScript hook.
 */

/** Mulberry32: a tiny seeded generator, so a failing run can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS =
  'the customer asked about their account and we should follow up tomorrow with the details from the last meeting notes please review attached summary before the call'.split(
    ' ',
  );

function digits(next: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String(Math.floor(next() * 10));
  return s;
}

/** A Luhn-valid number with the given prefix and length. */
function luhnNumber(next: () => number, prefix: string, length: number): string {
  const body = prefix + digits(next, length - prefix.length - 1);
  for (let check = 0; check < 10; check++) {
    const candidate = body + String(check);
    let sum = 0;
    for (let i = 0; i < candidate.length; i++) {
      let d = candidate.charCodeAt(candidate.length - 1 - i) - 48;
      if (i % 2 === 1) {
        d *= 2;
        if (d > 9) d -= 9;
      }
      sum += d;
    }
    if (sum % 10 === 0) return candidate;
  }
  throw new Error('unreachable');
}

function groups(value: string, sizes: number[], sep: string): string {
  const out: string[] = [];
  let i = 0;
  for (const size of sizes) {
    out.push(value.slice(i, i + size));
    i += size;
  }
  return out.join(sep);
}

/** A German IBAN with valid mod-97 check digits. */
function iban(next: () => number): string {
  const bban = digits(next, 18);
  const numeric = `${bban}131400`; // D=13 E=14, then "00"
  let rem = 0;
  for (const ch of numeric) rem = (rem * 10 + Number(ch)) % 97;
  const check = String(98 - rem).padStart(2, '0');
  return groups(`DE${check}${bban}`, [4, 4, 4, 4, 4, 2], ' ');
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function token(next: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALNUM[Math.floor(next() * ALNUM.length)];
  return `${s.slice(0, n - 2)}7q`;
}

/** One sentence or line: a few words around one finding or hard negative. */
function fragment(next: () => number, i: number): string {
  const w = (): string => WORDS[Math.floor(next() * WORDS.length)];
  const prose = `${w()} ${w()} ${w()} ${w()}`;
  switch (i % 12) {
    case 0:
      return `${prose} email user${i}.name@example${i % 7}.com about it.`;
    case 1:
      return `${prose} call (415) 555-${String(100 + (i % 900)).padStart(4, '0')} or +44 20 7946 ${String(i % 10000).padStart(4, '0')}.`;
    case 2:
      return `${prose} card ${groups(luhnNumber(next, '4', 16), [4, 4, 4, 4], ' ')} exp 12/29.`;
    case 3:
      return `${prose} ssn ${100 + (i % 500)}-${String(10 + (i % 89)).padStart(2, '0')}-${String(1000 + (i % 8999))}.`;
    case 4:
      return `${prose} iban ${iban(next)} for the transfer.`;
    case 5:
      return `${prose} from 10.${i % 250}.${(i * 7) % 250}.${(i * 13) % 250} and 2001:db8::${(i % 65535).toString(16)}.`;
    case 6:
      return `${prose} key AKIA${token(next, 16).toUpperCase()} and sk-${token(next, 40)}`;
    case 7:
      return `${prose} born on 1985-0${1 + (i % 9)}-1${i % 10}, ${w()} ${w()}.`;
    case 8:
      return `${prose} order 4532 0151 1283 0366 shipped at 2024-05-06T10:${String(i % 60).padStart(2, '0')}:00Z.`;
    case 9:
      return `${prose} version 1.2.3.${i % 100} build ${digits(next, 8)} ok`;
    case 10:
      return `{"user":"${w()}","mail":"a${i}@mail.example.org","ip":"192.0.2.${i % 250}","n":${i}}`;
    default:
      return `${prose} ${w()} ${w()} ${w()} ${w()} ${w()} ${w()}.`;
  }
}

/** About `bytes` characters (ASCII, so also bytes) of mixed-PII text. */
export function mixedPiiText(bytes: number, seed = 1): string {
  const next = rng(seed);
  const parts: string[] = [];
  let length = 0;
  for (let i = 0; length < bytes; i++) {
    const f = fragment(next, i);
    parts.push(f);
    length += f.length + 1;
  }
  return parts.join('\n').slice(0, bytes);
}
