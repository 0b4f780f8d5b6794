// What bench/memory-scale.mjs writes and asks for: deterministic notes of 20–40 words, the
// words its searches look for, and the plain node-postgres floor it compares the gateway with.
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';

/** The word in nearly every note (all but one in 50): a search for it matches ~98% of records. */
export const COMMON_WORD = 'project';
/** A word only note `i` holds. */
export const uniqueWord = (i) => `uniq${i.toString(36)}`;
export const keyOf = (i) => `r${String(i).padStart(6, '0')}`;

const SYLLABLES = [
  'ba',
  'ce',
  'di',
  'fo',
  'gu',
  'ha',
  'ke',
  'li',
  'mo',
  'nu',
  'pa',
  're',
  'si',
  'to',
  'vu',
  'ze',
];
/** 4,096 distinct three-syllable words: each is in ~0.75% of the notes. */
const VOCABULARY = Array.from(
  { length: 4096 },
  (_, n) => SYLLABLES[n & 15] + SYLLABLES[(n >> 4) & 15] + SYLLABLES[(n >> 8) & 15],
);

/** Note `i` as written the `version`-th time: its unique word, usually the common word, 20–40 words. */
export function noteOf(i, version = 0) {
  // 128 deterministic bytes per (i, version): the length, then two bytes per vocabulary word.
  const bytes = Buffer.concat(
    [0, 1].map((n) => createHash('sha512').update(`${i}/${version}/${n}`).digest()),
  );
  const count = 20 + (bytes[0] % 21);
  const words = [uniqueWord(i)];
  if (i % 50 !== 7) words.push(COMMON_WORD);
  for (let b = 1; words.length < count; b += 2)
    words.push(VOCABULARY[bytes.readUInt16BE(b) % VOCABULARY.length]);
  return words.join(' ');
}

/** Percentiles of latencies in ms (sorted in place). */
export function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Runs `op(i)` on `connections` concurrent loops for `seconds`; ops/s and latency percentiles. */
export async function closedLoop(connections, seconds, op) {
  const latencies = [];
  let errors = 0;
  let next = 0;
  const end = performance.now() + seconds * 1000;
  const loop = async () => {
    while (performance.now() < end) {
      const started = performance.now();
      try {
        await op(next++);
        latencies.push(performance.now() - started);
      } catch {
        errors++;
      }
    }
  };
  const startedAt = performance.now();
  await Promise.all(Array.from({ length: connections }, loop));
  const elapsed = (performance.now() - startedAt) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    opsPerSecond: Math.round(latencies.length / elapsed),
    p50: round1(percentile(latencies, 50)),
    p99: round1(percentile(latencies, 99)),
    requests: latencies.length,
    errors,
  };
}

/** Runs `op(i)` for every i in [0, count) on `connections` concurrent loops. */
export async function forEachIndex(count, connections, op, from = 0) {
  let next = from;
  const loop = async () => {
    while (next < count) await op(next++);
  };
  await Promise.all(Array.from({ length: connections }, loop));
}

const round1 = (n) => Math.round(n * 10) / 10;

/**
 * The floor's rows are the size of the gateway's: a tenant id as long as a UUID, and each word
 * stored as 22 characters (the length of a blind-index token). With shorter rows (the floor wrote
 * 'floor-bench' and plain words before) its postings fit into the few bytes the seeding left free
 * on nearly every heap page of memory_tokens, which the free-space map hands out: at 100,000
 * records each posting it wrote landed on a page of its own, one full-page image each after a
 * checkpoint (29,927 postings on 29,927 pages, ~200 KB of WAL a write against 17 KB at 1,000),
 * a cost the gateway's larger rows never meet.
 */
const FLOOR_TENANT = 'f1002000-0000-4000-8000-00000000f100';
const floorToken = (word) => createHash('sha256').update(word).digest().subarray(0, 16).toString('base64url');
const FLOOR_KEYS = 1000;

/**
 * The floor: what the same rows cost written and read by a plain node-postgres script, with no
 * encryption, PII, blind-index keys, audit, cache or HTTP. A write is one statement (its own
 * transaction): the record upserted, its words replaced, the usage counter added to, as the
 * gateway's PUT does in its transaction. A read is the gateway tenant's own row by primary key.
 */
export class PlainFloor {
  constructor(pool, { tenantId, namespace }) {
    this.pool = pool;
    this.tenantId = tenantId;
    this.namespace = namespace;
  }

  /** Writes note `i` (version `v`) as a row of the floor's own tenant, and its words. */
  write(i, v) {
    const text = noteOf(i, v);
    const words = [...new Set(text.split(' '))].map(floorToken);
    const value = Buffer.from(JSON.stringify({ text }));
    return this.pool.query(
      `WITH rec AS (
         INSERT INTO memory_records (tenant_id, namespace, "key", version, size_bytes, created_at, updated_at,
           expires_at, value_ciphertext, attrs_ciphertext)
         VALUES ($1, $2, $3, 1, $4, $5, $5, NULL, $6, NULL)
         ON CONFLICT (tenant_id, namespace, "key") DO UPDATE SET version = memory_records.version + 1,
           size_bytes = excluded.size_bytes, updated_at = excluded.updated_at, value_ciphertext = excluded.value_ciphertext
         RETURNING version),
       gone AS (DELETE FROM memory_tokens WHERE tenant_id = $1 AND namespace = $2 AND "key" = $3
         AND token <> ALL($7::varchar[])),
       added AS (INSERT INTO memory_tokens (tenant_id, namespace, token, "key")
         SELECT $1, $2, w, $3 FROM unnest($7::varchar[]) AS w ON CONFLICT DO NOTHING),
       used AS (INSERT INTO memory_usage (tenant_id, records, bytes) VALUES ($1, 1, $4)
         ON CONFLICT (tenant_id) DO UPDATE SET bytes = memory_usage.bytes + excluded.bytes)
       SELECT version FROM rec`,
      [FLOOR_TENANT, this.namespace, keyOf(i), value.length, Date.now(), value, words],
    );
  }

  /** The gateway tenant's record `i`, as stored (ciphertext, not decrypted). */
  read(i) {
    return this.pool.query(
      `SELECT namespace, "key", version, size_bytes, created_at, updated_at, expires_at, value_ciphertext,
         attrs_ciphertext FROM memory_records WHERE tenant_id = $1 AND namespace = $2 AND "key" = $3`,
      [this.tenantId, this.namespace, keyOf(i)],
    );
  }

  /** Writes FLOOR_KEYS records, so the measured writes overwrite (as the gateway's PUT does). */
  prime(connections) {
    return forEachIndex(FLOOR_KEYS, connections, (i) => this.write(i, 0));
  }

  /** Overwrites random records of the floor's tenant. */
  measureWrites({ connections, seconds }) {
    return closedLoop(connections, seconds, (n) => this.write(Math.floor(Math.random() * FLOOR_KEYS), n + 1));
  }

  /** Reads random records of the gateway's tenant (of `size`). */
  measureReads(size, { connections, seconds }) {
    return closedLoop(connections, seconds, () => this.read(Math.floor(Math.random() * size)));
  }

  /** Removes the floor's rows, leaving the tables as the gateway wrote them. */
  async clean() {
    for (const table of ['memory_tokens', 'memory_records', 'memory_usage']) {
      await this.pool.query(`DELETE FROM ${table} WHERE tenant_id = $1`, [FLOOR_TENANT]);
    }
  }
}
