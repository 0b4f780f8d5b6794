import { randomBytes } from 'node:crypto';
import type { KeyRingEntry } from '@app/config';
import { parseKeyRing } from '@app/config';
import { DataKeyDestroyedError, DecryptionError, KeyRingError } from './crypto.errors';
import { generateDataKey, rewrapDataKey, unwrapDataKey, wrapDataKey } from './data-key';
import { InMemoryDataKeyStore } from './data-key-store';
import { blobKeyId, CIPHERTEXT_VERSION, decodeBlob, IV_BYTES, TAG_BYTES } from './envelope';
import { TenantCrypto } from './tenant-crypto';
import { decryptValue, encryptValue } from './value-cipher';

const ring = (...ids: string[]): KeyRingEntry[] => ids.map((id) => ({ id, key: randomBytes(32) }));
const ctx = { tenantId: 't-1', namespace: 'notes', key: 'k1' };

function expectCode(fn: () => unknown, code: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(DecryptionError);
  expect((caught as DecryptionError).code).toBe(code);
}

describe('value encryption (AES-256-GCM under a data key)', () => {
  const dk = generateDataKey('t-1');

  it('round-trips and carries version, key id, 12-byte IV and 16-byte tag', () => {
    const blob = encryptValue(dk, ctx, '{"secret":"value"}');
    expect(decryptValue(dk, ctx, blob).toString('utf8')).toBe('{"secret":"value"}');
    const parts = decodeBlob(blob);
    expect(parts.version).toBe(CIPHERTEXT_VERSION);
    expect(parts.keyId).toBe(dk.id);
    expect(parts.iv).toHaveLength(IV_BYTES);
    expect(parts.tag).toHaveLength(TAG_BYTES);
    expect(blob.includes(Buffer.from('secret'))).toBe(false);
  });

  it('uses a fresh IV each time', () => {
    const a = decodeBlob(encryptValue(dk, ctx, 'same'));
    const b = decodeBlob(encryptValue(dk, ctx, 'same'));
    expect(a.iv.equals(b.iv)).toBe(false);
    expect(a.ciphertext.equals(b.ciphertext)).toBe(false);
  });

  it('rejects a blob moved to another tenant, namespace or key (AAD binding)', () => {
    const blob = encryptValue(dk, ctx, 'v');
    for (const other of [
      { ...ctx, tenantId: 't-2' },
      { ...ctx, namespace: 'other' },
      { ...ctx, key: 'k2' },
    ]) {
      expectCode(() => decryptValue({ ...dk, tenantId: other.tenantId }, other, blob), 'ciphertext_invalid');
    }
    try {
      decryptValue(dk, { ...ctx, key: 'k2' }, blob);
    } catch (err) {
      expect((err as Error).message).toBe(
        'ciphertext does not belong to this tenant/namespace/key or was altered',
      );
    }
    expect.assertions(7);
  });

  it('detects tampering with the IV, ciphertext, tag or version byte, and truncation', () => {
    const blob = encryptValue(dk, ctx, 'a value long enough');
    const headerLength = 2 + Buffer.byteLength(dk.id);
    for (const index of [headerLength, headerLength + IV_BYTES + 1, blob.length - 1]) {
      const bad = Buffer.from(blob);
      bad[index] ^= 0x01;
      expectCode(() => decryptValue(dk, ctx, bad), 'ciphertext_invalid');
    }
    const badVersion = Buffer.from(blob);
    badVersion[0] = 9;
    expectCode(() => decryptValue(dk, ctx, badVersion), 'unsupported_ciphertext_version');
    expectCode(() => decryptValue(dk, ctx, blob.subarray(0, 10)), 'ciphertext_invalid');
  });

  it('refuses a blob sealed with another data key id: unknown_key_id', () => {
    const other = generateDataKey('t-1');
    expectCode(() => decryptValue(other, ctx, encryptValue(dk, ctx, 'v')), 'unknown_key_id');
  });
});

describe('data key wrapping under the ENCRYPTION_KEY ring', () => {
  it('wraps under the primary and unwraps with any ring key', () => {
    const r1 = ring('old');
    const dk = generateDataKey('t-1');
    const wrapped = wrapDataKey(r1, dk);
    expect(blobKeyId(wrapped)).toBe('old');
    const r2 = [...ring('new'), ...r1];
    const back = unwrapDataKey(r2, { tenantId: 't-1', dataKeyId: dk.id }, wrapped);
    expect(back.key.equals(dk.key)).toBe(true);
  });

  it('works with a ring parsed by libs/config', () => {
    const parsed = parseKeyRing(
      `a:${randomBytes(32).toString('base64')},b:${randomBytes(32).toString('base64')}`,
    );
    const dk = generateDataKey('t-1');
    expect(blobKeyId(wrapDataKey(parsed, dk))).toBe('a');
  });

  it('unknown kid → unknown_key_id; moved to another tenant or key id → ciphertext_invalid', () => {
    const dk = generateDataKey('t-1');
    const wrapped = wrapDataKey(ring('k1'), dk);
    expectCode(
      () => unwrapDataKey(ring('k2'), { tenantId: 't-1', dataKeyId: dk.id }, wrapped),
      'unknown_key_id',
    );
    const r = ring('k1');
    const w = wrapDataKey(r, dk);
    expectCode(() => unwrapDataKey(r, { tenantId: 't-2', dataKeyId: dk.id }, w), 'ciphertext_invalid');
    expectCode(() => unwrapDataKey(r, { tenantId: 't-1', dataKeyId: 'dk_other' }, w), 'ciphertext_invalid');
  });

  it('an empty ring is a typed error', () => {
    expect(() => wrapDataKey([], generateDataKey('t'))).toThrow(KeyRingError);
  });

  it('rewrapDataKey moves a data key to the new primary without touching values', () => {
    const oldRing = ring('v1');
    const dk = generateDataKey('t-1');
    const ref = { tenantId: 't-1', dataKeyId: dk.id };
    const wrapped = wrapDataKey(oldRing, dk);
    const value = encryptValue(dk, ctx, 'kept');

    const rotated = [...ring('v2'), ...oldRing];
    const result = rewrapDataKey(rotated, ref, wrapped);
    expect(result).toMatchObject({ kekId: 'v2', changed: true });
    expect(blobKeyId(result.wrapped)).toBe('v2');

    // The old key can now leave the ring: the value still decrypts with the re-wrapped key.
    const onlyNew = rotated.slice(0, 1);
    const unwrapped = unwrapDataKey(onlyNew, ref, result.wrapped);
    expect(decryptValue(unwrapped, ctx, value).toString()).toBe('kept');
    expectCode(() => unwrapDataKey(onlyNew, ref, wrapped), 'unknown_key_id');

    const again = rewrapDataKey(onlyNew, ref, result.wrapped);
    expect(again).toEqual({ wrapped: result.wrapped, kekId: 'v2', changed: false });
  });

  it('rewrapDataKey refuses a corrupt wrapped key', () => {
    const r = ring('v1');
    const dk = generateDataKey('t-1');
    const bad = wrapDataKey(r, dk);
    bad[bad.length - 1] ^= 1;
    expectCode(() => rewrapDataKey(r, { tenantId: 't-1', dataKeyId: dk.id }, bad), 'ciphertext_invalid');
  });
});

describe('TenantCrypto', () => {
  it('creates one data key per tenant, stores it only wrapped, and round-trips values', async () => {
    const store = new InMemoryDataKeyStore();
    const r = ring('p');
    const tc = new TenantCrypto(r, store);
    const blob = await tc.encrypt(ctx, 'hello');
    expect((await tc.decrypt(ctx, blob)).toString()).toBe('hello');
    await tc.encrypt({ ...ctx, key: 'k2' }, 'again');
    expect(store.all()).toHaveLength(1);
    const [stored] = store.all();
    expect(stored).toMatchObject({ tenantId: 't-1', kekId: 'p' });
    // A second replica (fresh cache) reads the same key from the store.
    expect((await new TenantCrypto(r, store).decrypt(ctx, blob)).toString()).toBe('hello');
  });

  it("tenants cannot read each other's blobs", async () => {
    const tc = new TenantCrypto(ring('p'), new InMemoryDataKeyStore());
    const blob = await tc.encrypt(ctx, 'mine');
    await tc.encrypt({ ...ctx, tenantId: 't-2' }, 'theirs');
    await expect(tc.decrypt({ ...ctx, tenantId: 't-2' }, blob)).rejects.toMatchObject({
      code: 'data_key_destroyed',
    });
  });

  it('shred (crypto-shredding) makes the memory, blind index and PII hash key unrecoverable', async () => {
    const store = new InMemoryDataKeyStore();
    const tc = new TenantCrypto(ring('p'), store);
    const blob = await tc.encrypt(ctx, 'forget me');
    const indexBefore = await tc.blindIndex('t-1', 'forget me please');
    const piiBefore = await tc.piiHashKey('t-1');
    expect(await tc.shred('t-1')).toBe(1);
    expect(store.all()).toHaveLength(0);
    await expect(tc.decrypt(ctx, blob)).rejects.toBeInstanceOf(DataKeyDestroyedError);
    // A later write starts a new key; old blobs stay unreadable and derived keys change.
    await tc.encrypt(ctx, 'new life');
    await expect(tc.decrypt(ctx, blob)).rejects.toMatchObject({ code: 'data_key_destroyed', status: 404 });
    expect(await tc.blindIndex('t-1', 'forget me please')).not.toEqual(indexBefore);
    expect((await tc.piiHashKey('t-1')).equals(piiBefore)).toBe(false);
  });

  it('a key read before a shred is not cached after it: the next seal uses the new key', async () => {
    const store = new InMemoryDataKeyStore();
    const tc = new TenantCrypto(ring('p'), store);
    const first = await tc.encrypt(ctx, 'before');
    tc.forget('t-1');
    // The look-up is in flight (the key is read from the store) when the shred comes.
    const findCurrent = store.findCurrent.bind(store);
    let shredding: Promise<number> | undefined;
    jest.spyOn(store, 'findCurrent').mockImplementationOnce(async (tenantId) => {
      const found = await findCurrent(tenantId);
      shredding = tc.shred('t-1');
      await shredding;
      return found;
    });
    const racing = await tc.encrypt(ctx, 'racing');
    await shredding;
    expect(blobKeyId(racing)).toBe(blobKeyId(first));
    const after = await tc.encrypt(ctx, 'after');
    expect(blobKeyId(after)).not.toBe(blobKeyId(first));
    expect(store.all().map((k) => k.dataKeyId)).toEqual([blobKeyId(after)]);
    expect((await tc.decrypt(ctx, after)).toString()).toBe('after');
  });

  it('cached keys expire, so an erasure on another replica takes effect', async () => {
    const store = new InMemoryDataKeyStore();
    let now = 1_000;
    const replicaA = new TenantCrypto(ring('p'), store, { cacheTtlMs: 100, now: () => now });
    const blob = await replicaA.encrypt(ctx, 'v');
    await store.destroyAll('t-1');
    expect((await replicaA.decrypt(ctx, blob)).toString()).toBe('v');
    now += 101;
    await expect(replicaA.decrypt(ctx, blob)).rejects.toBeInstanceOf(DataKeyDestroyedError);
  });

  it('after rotate-kek, values written before still decrypt with the old key removed', async () => {
    const store = new InMemoryDataKeyStore();
    const oldRing = ring('v1');
    const blob = await new TenantCrypto(oldRing, store).encrypt(ctx, 'survives rotation');
    const newRing = [...ring('v2'), ...oldRing];
    for (const k of store.all()) {
      const res = rewrapDataKey(newRing, { tenantId: k.tenantId, dataKeyId: k.dataKeyId }, k.wrapped);
      store.replace({ ...k, wrapped: res.wrapped, kekId: res.kekId });
    }
    const tc = new TenantCrypto(newRing.slice(0, 1), store);
    expect((await tc.decrypt(ctx, blob)).toString()).toBe('survives rotation');
  });

  it('blind index: a query matches the stored tokens of the same tenant only', async () => {
    const tc = new TenantCrypto(ring('p'), new InMemoryDataKeyStore());
    const stored = await tc.blindIndex('t-1', 'Dinner with Zoë on Friday');
    const [query] = await tc.blindIndex('t-1', 'zoe');
    expect(stored).toContain(query);
    expect(await tc.blindIndex('t-2', 'Dinner with Zoë on Friday')).not.toContain(query);
  });

  it('refuses to start without a key ring', () => {
    expect(() => new TenantCrypto([], new InMemoryDataKeyStore())).toThrow(KeyRingError);
  });
});
