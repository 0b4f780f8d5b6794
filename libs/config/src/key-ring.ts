export interface KeyRingEntry {
  /** Key id stored beside every wrapped data key, so old keys keep unwrapping after rotation. */
  id: string;
  key: Buffer;
}

const KID = /^[A-Za-z0-9_-]{1,32}$/;

function decodeKey(b64: string): Buffer {
  const key = Buffer.from(b64.trim(), 'base64');
  if (key.length !== 32 || key.toString('base64').replace(/=+$/, '') !== b64.trim().replace(/=+$/, '')) {
    throw new Error('must be base64 of exactly 32 bytes');
  }
  return key;
}

/**
 * Parses `ENCRYPTION_KEY`: a bare base64 32-byte key (id `k0`) or a comma-separated key ring
 * `kid1:base64,kid2:base64` whose first entry is the primary key.
 */
export function parseKeyRing(raw: string): KeyRingEntry[] {
  const parts = raw
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (!parts.length) throw new Error('is empty');
  const seen = new Set<string>();
  return parts.map((part, i) => {
    const idx = part.indexOf(':');
    const id = idx > 0 ? part.slice(0, idx) : parts.length === 1 ? 'k0' : `k${i}`;
    const b64 = idx > 0 ? part.slice(idx + 1) : part;
    if (!KID.test(id)) throw new Error(`entry ${i + 1}: key id must be 1-32 letters, digits, _ or -`);
    if (seen.has(id)) throw new Error(`entry ${i + 1}: duplicate key id "${id}"`);
    seen.add(id);
    try {
      return { id, key: decodeKey(b64) };
    } catch (err) {
      throw new Error(`entry ${i + 1} (${id}): ${(err as Error).message}`);
    }
  });
}
