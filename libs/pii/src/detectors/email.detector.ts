import { scoreWithContext, words } from '../context';
import type { PiiEntity } from '../pii.types';
import { entity, execAll } from './detector';

// Dot-atom local part (an inner apostrophe allowed: o'brien@…), LDH labels, alphabetic TLD. Not followed by more domain characters, nor by
// `:path` (an scp/SSH remote like git@github.com:org/repo is a host, not a person).
const EMAIL =
  /(?<![A-Za-z0-9._%+-])[A-Za-z0-9_%+-]+(?:['.][A-Za-z0-9_%+-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9\-@]|\.[A-Za-z0-9]|:[^\s])/g;

/** Retina assets and bundles (`icon@2x.png`, `chunk@1.0.js`) have file extensions, not TLDs. */
const FILE_EXTENSIONS = new Set(
  'png jpg jpeg gif svg webp ico bmp tif tiff avif css scss js mjs cjs ts tsx jsx map json txt md pdf zip'.split(
    ' ',
  ),
);

/** `https://user:token@host`: the part before @ is a credential, the rest a host, not an address. */
const URL_USERINFO = /:\/\/[^\s/@]*$/;

const RULE = {
  positive: words(['email', 'e-mail', 'mail', 'contact', 'reach', 'write to', 'cc', 'from', 'to']),
  boost: 0.08,
  penalty: 0,
};

export function detectEmails(text: string): PiiEntity[] {
  if (!text.includes('@')) return [];
  const out: PiiEntity[] = [];
  for (const m of execAll(EMAIL, text)) {
    const value = m[0];
    const tld = value.slice(value.lastIndexOf('.') + 1).toLowerCase();
    const start = m.index;
    if (FILE_EXTENSIONS.has(tld) || URL_USERINFO.test(text.slice(Math.max(0, start - 256), start))) continue;
    const end = start + value.length;
    out.push(entity('EMAIL', start, end, scoreWithContext(text, { start, end }, 0.9, RULE)));
  }
  return out;
}
