// Seeds bench/memory-scale.mjs's records with the memory gateway's own code, in this process:
// each note goes through PII handling in the default mode (`redact`: it finds nothing in these
// notes, and seeding fails if it ever does), MemoryCodec seals and indexes it under the tenant's
// data key, and the rows a PUT that creates a record writes (memory_records, memory_tokens, the
// tenant's usage through atp_memory_usage_add) are written from the gateway's table definitions;
// after the commit each record's write-through cache entry is stored by MemoryCache, as a PUT
// does. What it leaves out is the per-request work a PUT does around those rows (HTTP, the API
// key check, an audit event, metrics) and one transaction per record: BATCH records commit
// together, without waiting for the WAL flush. On this 2-core VM: ~800–1,000 records/s while
// growing to 100,000 (~1,400 to 10,000), against ~400 PUT/s through the API (bench/README, T5).
import { performance } from 'node:perf_hooks';
import { gatewaySource } from './lib/gateway-source.mjs';
import { keyOf, noteOf } from './memory-scale-data.mjs';

/** Records per transaction. */
const BATCH = 250;
/** Transactions in flight (one is sealed while the other commits). */
const PARALLEL = 2;

/**
 * Opens the gateway's database, Redis and key ring as a gateway with this `env` would, for the
 * tenant `tenantId`. `seed(namespace, from, to)` writes notes `from` … `to - 1`; `close()` ends.
 */
export async function openSeeder(env, tenantId) {
  const source = gatewaySource();
  const { loadConfig } = source('libs/config/src/index.ts');
  const { dataSourceOptions, defer, sql, SqlRunner } = source('libs/database/src/index.ts');
  const { createKvStore } = source('libs/cache/src/index.ts');
  const { DataKeyRepository, TenantCrypto } = source('libs/crypto/src/index.ts');
  const { applyPiiToJson, DEFAULT_PII_MODE } = source('libs/pii/src/index.ts');
  const { MemoryCodec } = source('apps/memory-gateway/src/memories/memory.codec.ts');
  const { MemoryCache } = source('apps/memory-gateway/src/memories/memory.cache.ts');
  const { MemorySettings } = source('apps/memory-gateway/src/memories/memory.settings.ts');
  const { MEMORY_RECORDS, MEMORY_TOKENS } = source('apps/memory-gateway/src/memories/memory-sql.ts');
  const { MemoryRepository } = source('apps/memory-gateway/src/memories/memory.repository.ts');
  const { DataSource } = source('node_modules/typeorm/index.js');

  const config = loadConfig('memory-gateway', env);
  const ds = await new DataSource(dataSourceOptions(config.database, [])).initialize();
  const db = new SqlRunner(ds);
  const kv = createKvStore(config);
  await kv.connected?.();
  const settings = MemorySettings.fromConfig(config);
  const cache = new MemoryCache(kv, settings);
  const dataKeys = new DataKeyRepository(db);
  const codec = new MemoryCodec(new TenantCrypto(config.encryptionKeys, dataKeys), dataKeys);
  const repository = new MemoryRepository(ds);

  /** The stored row of note `i`, read and decrypted as the gateway's GET does on a cache miss. */
  async function check(namespace, i) {
    const record = await repository.findRecord({ tenantId, namespace, key: keyOf(i) });
    const value = record && (await codec.openValue(record));
    if (record?.version !== 1 || value?.text !== noteOf(i, 0))
      throw new Error(
        `seeded row ${keyOf(i)} reads back as ${JSON.stringify(value)} (version ${record?.version})`,
      );
  }

  /** One record as PUT (no tags, no metadata, no TTL) would store it. */
  async function seal(namespace, i) {
    const at = { tenantId, namespace, key: keyOf(i) };
    const pii = applyPiiToJson({ text: noteOf(i, 0) }, DEFAULT_PII_MODE);
    if (pii.summary.length)
      throw new Error(`note ${i} holds PII (${JSON.stringify(pii.summary)}): not a PUT's rows`);
    const { tokens, tags, ...sealed } = await codec.seal(at, { value: pii.value, metadata: null, tags: [] });
    if (tags.length) throw new Error('a seeded note has no tags');
    return { record: { ...at, ...sealed, expiresAt: null }, tokens };
  }

  async function writeBatch(namespace, from, to) {
    const sealed = [];
    for (let i = from; i < to; i++) sealed.push(seal(namespace, i));
    const batch = await Promise.all(sealed);
    const now = Date.now();
    const records = batch.map(({ record }) => ({ ...record, version: 1, createdAt: now, updatedAt: now }));
    const tokens = batch.flatMap(({ record, tokens }) =>
      [...new Set(tokens)].map((value) => ({ tenantId, namespace, key: record.key, value })),
    );
    const bytes = records.reduce((sum, r) => sum + r.sizeBytes, 0);
    await db.transaction(function* () {
      yield defer(sql('SET LOCAL synchronous_commit = off'));
      yield defer(MEMORY_RECORDS.insert(records));
      yield* db.insertStatements(MEMORY_TOKENS, tokens, 'ON CONFLICT DO NOTHING').map(defer);
      yield defer(
        sql(
          'SELECT atp_memory_usage_add(?, ?, ?, ?, ?)',
          tenantId,
          records.length,
          bytes,
          settings.quotaRecords,
          settings.quotaBytes,
        ),
      );
    });
    await Promise.all(records.map((record) => cache.put(record, now)));
  }

  return {
    /** Writes notes [from, to) of `namespace`; resolves with the seconds it took. */
    async seed(namespace, from, to) {
      const startedAt = performance.now();
      let next = from;
      const lane = async () => {
        while (next < to) {
          const start = next;
          next = Math.min(to, next + BATCH);
          await writeBatch(namespace, start, next);
        }
      };
      await Promise.all(Array.from({ length: PARALLEL }, lane));
      await check(namespace, from);
      await check(namespace, to - 1);
      return (performance.now() - startedAt) / 1000;
    },
    async close() {
      await ds.destroy();
      await kv.close?.();
    },
  };
}
