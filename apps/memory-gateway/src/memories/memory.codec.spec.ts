import { randomBytes } from 'node:crypto';
import { type DataKeyRepository, InMemoryDataKeyStore, TenantCrypto } from '@app/crypto';
import { MemoryCodec, searchableText } from './memory.codec';

describe('searchableText', () => {
  it('collects strings and numbers of any depth, not object keys', () => {
    expect(
      searchableText({ title: 'Hello', n: 42, list: ['a b', { deep: 'word' }], flag: true, none: null }),
    ).toBe('Hello 42 a b word');
    expect(searchableText('plain')).toBe('plain');
    expect(searchableText(null)).toBe('');
  });
});

describe('MemoryCodec', () => {
  const store = new InMemoryDataKeyStore();
  const crypto = new TenantCrypto([{ id: 'k1', key: randomBytes(32) }], store);
  const codec = new MemoryCodec(crypto, store as unknown as DataKeyRepository);
  const at = { tenantId: 't1', namespace: 'ns', key: 'k' };

  it('round-trips values and attributes, each bound to its own location', async () => {
    const value = { text: 'secret words', n: [1, 2] };
    const sealed = await codec.sealValue(at, value);
    expect(sealed.toString('latin1')).not.toContain('secret');
    const record = {
      ...at,
      version: 1,
      valueCiphertext: sealed,
      attrsCiphertext: await codec.sealAttributes(at, { tags: ['x'], metadata: { m: 1 } }),
      sizeBytes: 1,
      createdAt: 0,
      updatedAt: 0,
      expiresAt: null,
    };
    await expect(codec.openValue(record)).resolves.toEqual(value);
    await expect(codec.openAttributes(record)).resolves.toEqual({ tags: ['x'], metadata: { m: 1 } });
    // The attributes blob cannot stand in for the value (different AAD).
    await expect(
      codec.openValue({ ...record, valueCiphertext: record.attrsCiphertext }),
    ).rejects.toMatchObject({
      code: 'ciphertext_invalid',
    });
    await expect(codec.openValue({ ...record, key: 'other' })).rejects.toMatchObject({
      code: 'ciphertext_invalid',
    });
  });

  it('a blob from another tenant is ciphertext_invalid; after erasure, data_key_destroyed', async () => {
    const sealed = await codec.sealValue(at, 'x');
    await codec.sealValue({ ...at, tenantId: 't2' }, 'y');
    const foreign = { ...at, tenantId: 't2', version: 1, valueCiphertext: sealed, attrsCiphertext: null };
    const record = { ...foreign, sizeBytes: 1, createdAt: 0, updatedAt: 0, expiresAt: null };
    await expect(codec.openValue(record)).rejects.toMatchObject({ code: 'ciphertext_invalid' });
    await crypto.shred('t1');
    await expect(codec.openValue({ ...record, tenantId: 't1' })).rejects.toMatchObject({
      code: 'data_key_destroyed',
    });
  });

  it('tokens and tag hashes are keyed per tenant and reveal no word', async () => {
    const a = await codec.searchTokens('ta', { text: 'Café quick' });
    expect(a).toHaveLength(2);
    expect(a.join(' ')).not.toMatch(/caf|quick/i);
    expect(await codec.queryTokens('ta', 'QUICK cafe')).toEqual(expect.arrayContaining(a));
    expect(await codec.searchTokens('tb', { text: 'Café quick' })).not.toEqual(
      expect.arrayContaining([a[0]]),
    );
    const [t1] = await codec.tagHashes('ta', ['Project X']);
    const [t2] = await codec.tagHashes('ta', ['project x']);
    expect(t1).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(t1).not.toBe(t2);
    expect(await codec.tagHashes('ta', ['a', 'a', 'b'])).toHaveLength(2);
  });
});
