import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { loadConfig } from '@app/config';
import { DataKeyRepository, DecryptionError, TenantCrypto } from '@app/crypto';
import { dataSourceOptions, runMigrations, sql, SqlRunner } from '@app/database';
import { createTestEnv, SERVICES_LABEL, type TestEnv } from '@app/testing';
import { StoredResponseRepository } from './stored-response.repository';
import { StoredResponseSweeper } from './stored-response-sweeper';
import { StoredResponses } from './stored-responses';

const TTL_SECONDS = 3600;
const SECRET = 'the-secret-word-in-the-prompt';

describe(`stored responses on ${SERVICES_LABEL}`, () => {
  let testEnv: TestEnv;
  let ds: DataSource;
  let db: SqlRunner;
  let crypto: TenantCrypto;
  let store: StoredResponses;
  let sweeper: StoredResponseSweeper;
  let now = Date.UTC(2026, 0, 1);
  const clock = () => now;
  const stored = (text: string) => ({
    response: { id: 'x', output_text: text },
    conversation: [{ type: 'message', role: 'user', content: text }],
  });

  beforeAll(async () => {
    testEnv = await createTestEnv({ ATP_RESPONSES_TTL_SECONDS: String(TTL_SECONDS) });
    const config = loadConfig('router', testEnv.env);
    ds = await new DataSource(dataSourceOptions(config.database)).initialize();
    await runMigrations(ds);
    db = new SqlRunner(ds);
    crypto = new TenantCrypto(config.encryptionKeys, new DataKeyRepository(db), { now: clock });
    const repository = new StoredResponseRepository(db);
    store = new StoredResponses(repository, crypto, config, clock);
    sweeper = new StoredResponseSweeper(repository, clock);
  });
  afterAll(async () => {
    await ds?.destroy();
    await testEnv?.cleanup();
  });

  const rows = async (tenantId: string) =>
    (
      await db.run(
        sql('SELECT id, ciphertext, expires_at FROM stored_responses WHERE tenant_id = ?', tenantId),
      )
    ).rows;

  it('round-trips, and the row holds no plaintext', async () => {
    await store.save('t-a', 'resp_1', stored(SECRET));
    expect(await store.find('t-a', 'resp_1')).toEqual(stored(SECRET));
    const [row] = await rows('t-a');
    expect(Number(row.expires_at)).toBe(now + TTL_SECONDS * 1000);
    const bytes = Buffer.from(row.ciphertext as Uint8Array);
    expect(bytes.includes(Buffer.from(SECRET))).toBe(false);
    expect(bytes.includes(Buffer.from('conversation'))).toBe(false);
  });

  it('another tenant neither reads nor deletes it, whatever id it guesses', async () => {
    await store.save('t-b', 'resp_b', stored('b'));
    expect(await store.find('t-other', 'resp_b')).toBeNull();
    expect(await store.delete('t-other', 'resp_b')).toBe(false);
    expect(await store.find('t-b', 'resp_b')).toEqual(stored('b'));
  });

  it('is unreadable without the key ring, and a ciphertext moved to another row fails to open', async () => {
    await store.save('t-c', 'resp_c', stored(SECRET));
    const [row] = await rows('t-c');
    const stranger = new TenantCrypto([{ id: 't1', key: randomBytes(32) }], new DataKeyRepository(db));
    await expect(
      stranger.decrypt(
        { tenantId: 't-c', namespace: 'responses', key: 'resp_c' },
        Buffer.from(row.ciphertext as Uint8Array),
      ),
    ).rejects.toBeInstanceOf(DecryptionError);
    await db.run(
      sql(
        'INSERT INTO stored_responses (tenant_id, id, ciphertext, created_at, expires_at) VALUES (?, ?, ?, ?, ?)',
        't-c',
        'resp_moved',
        Buffer.from(row.ciphertext as Uint8Array),
        now,
        now + 1000,
      ),
    );
    await expect(store.find('t-c', 'resp_moved')).rejects.toBeInstanceOf(DecryptionError);
  });

  it('an id no stored response can have (NUL byte, unicode, over-long) is not found, without a database error', async () => {
    for (const id of ['resp_\u0000', 'resp_é', `resp_${'a'.repeat(5000)}`, '']) {
      expect(await store.find('t-a', id)).toBeNull();
      expect(await store.delete('t-a', id)).toBe(false);
    }
  });

  it('delete removes it once', async () => {
    await store.save('t-d', 'resp_d', stored('d'));
    expect(await store.delete('t-d', 'resp_d')).toBe(true);
    expect(await store.delete('t-d', 'resp_d')).toBe(false);
    expect(await store.find('t-d', 'resp_d')).toBeNull();
  });

  it('expires after the TTL (hidden at once, deleted by the sweeper)', async () => {
    await store.save('t-e', 'resp_e1', stored('e1'));
    now += 1000;
    await store.save('t-e', 'resp_e2', stored('e2'));
    now += TTL_SECONDS * 1000 - 500; // e1 expired 500 ms ago, e2 has 500 ms left
    expect(await store.find('t-e', 'resp_e1')).toBeNull();
    expect(await store.delete('t-e', 'resp_e1')).toBe(false);
    expect(await store.find('t-e', 'resp_e2')).toEqual(stored('e2'));
    const swept = await sweeper.sweep();
    expect(swept).toBeGreaterThanOrEqual(1);
    expect((await rows('t-e')).map((r) => r.id)).toEqual(['resp_e2']);
  });

  it("erasure: once the tenant's data key is destroyed its responses are gone, rows or not", async () => {
    await store.save('t-f', 'resp_f', stored(SECRET));
    await crypto.shred('t-f');
    expect(await rows('t-f')).toHaveLength(1);
    expect(await store.find('t-f', 'resp_f')).toBeNull();
  });
});
