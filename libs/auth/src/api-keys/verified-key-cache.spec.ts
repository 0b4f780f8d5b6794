import type { ApiKeyRecord } from './api-key.repository';
import { VerifiedKeyCache } from './verified-key-cache';

const record = (id: string): ApiKeyRecord => ({
  id,
  tenantId: 't',
  name: id,
  prefix: 'atp_x',
  scopes: ['llm'],
  limits: null,
  createdBy: null,
  createdAt: new Date(0),
  expiresAt: null,
  revokedAt: null,
  lastUsedAt: null,
});

describe('VerifiedKeyCache', () => {
  let now = 0;
  const cache = () => new VerifiedKeyCache(5000, 3, () => now);
  beforeEach(() => (now = 0));

  it('serves an entry for the TTL, then forgets it', () => {
    const c = cache();
    c.set('h1', record('k1'));
    now = 4999;
    expect(c.get('h1')?.id).toBe('k1');
    now = 5000;
    expect(c.get('h1')).toBeUndefined();
  });

  it('caches "no such key" as null, distinct from "not cached"', () => {
    const c = cache();
    expect(c.get('h')).toBeUndefined();
    c.set('h', null);
    expect(c.get('h')).toBeNull();
  });

  it('evicts a revoked key by id', () => {
    const c = cache();
    c.set('h1', record('k1'));
    c.set('h2', record('k2'));
    c.evictKey('k1');
    expect(c.get('h1')).toBeUndefined();
    expect(c.get('h2')?.id).toBe('k2');
    c.evictKey('unknown');
    expect(c.size).toBe(1);
  });

  it('is bounded: the oldest entry goes first', () => {
    const c = cache();
    for (const i of [1, 2, 3, 4]) c.set(`h${i}`, record(`k${i}`));
    expect(c.size).toBe(3);
    expect(c.get('h1')).toBeUndefined();
    expect(c.get('h4')?.id).toBe('k4');
    c.evictKey('k1');
    expect(c.size).toBe(3);
  });
});
