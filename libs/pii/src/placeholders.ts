import { HASH_HEX_LENGTH } from './operators';
import { PII_ENTITY_TYPES } from './pii.types';

// `<EMAIL>` (redact) and `<EMAIL:3f9a1c2b7d4e5f60>` (hash), exactly as replacementFor writes them.
const PLACEHOLDER = new RegExp(
  `<(?:${PII_ENTITY_TYPES.join('|')})(?::([0-9a-f]{${HASH_HEX_LENGTH}}))?>`,
  'g',
);

/**
 * The text a search index may see: redaction placeholders removed, hash placeholders reduced to
 * their digest. "EMAIL" inside `<EMAIL>` is not a word of the value: indexed, every record that
 * held some email would match every query that held another. The digest stays, so mode `hash`
 * keeps finding the same value exactly. Each placeholder becomes separate whitespace-delimited
 * text, so no word of the value is glued to a digest.
 */
export function searchableWithoutPlaceholders(text: string): string {
  if (!text.includes('<')) return text;
  return text.replace(PLACEHOLDER, (_match, digest: string | undefined) => (digest ? ` ${digest} ` : ' '));
}
