import { DataSource } from 'typeorm';
import { type BootedApp, bootApp, createTestEnv, SERVICES_LABEL, type TestEnv } from '@app/testing';
import { AppModule } from '../src/app.module';
import { MemorySearchRepository } from '../src/memories/memory-search.repository';

interface Row {
  key: string;
  words: string[];
  tags: string[];
  expiresAt: number | null;
}

const TENANT = 'ranking-tenant';
const NOW = 1_000_000;
const key = (i: number) => `k${String(i).padStart(5, '0')}`;

/**
 * The search's SQL against counting every posting, on the real tables of both engines: words of
 * every frequency, tags, expired records, and windows up to the largest candidate list (the
 * ranking's own properties are in memory-top-k.spec.ts).
 */
describe(`memory search ranking on ${SERVICES_LABEL}`, () => {
  let testEnv: TestEnv;
  let gateway: BootedApp;
  let ds: DataSource;
  let search: MemorySearchRepository;
  const data = new Map<string, Row[]>();

  const insert = async (table: string, columns: string[], rows: unknown[][]) => {
    const pg = ds.options.type === 'postgres';
    for (let i = 0; i < rows.length; i += 200) {
      const chunk = rows.slice(i, i + 200);
      let n = 0;
      const values = chunk.map((r) => `(${r.map(() => (pg ? `$${++n}` : '?')).join(', ')})`).join(', ');
      await ds.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${values}`, chunk.flat());
    }
  };

  const store = async (namespace: string, rows: Row[]) => {
    data.set(namespace, rows);
    await insert(
      'memory_records',
      [
        'tenant_id',
        'namespace',
        '"key"',
        'version',
        'size_bytes',
        'created_at',
        'updated_at',
        'expires_at',
        'value_ciphertext',
        'index_version',
      ],
      rows.map((r) => [TENANT, namespace, r.key, 1, 3, 0, 0, r.expiresAt, Buffer.from('x'), 1]),
    );
    const postings = (of: (r: Row) => string[]) =>
      rows.flatMap((r) => of(r).map((w) => [TENANT, namespace, w, r.key]));
    await insert(
      'memory_tokens',
      ['tenant_id', 'namespace', 'token', '"key"'],
      postings((r) => r.words),
    );
    await insert(
      'memory_tags',
      ['tenant_id', 'namespace', 'tag', '"key"'],
      postings((r) => r.tags),
    );
  };

  /** Every live record holding every tag and a word, by words held, then key. */
  const bruteForce = (namespace: string, tokens: string[], tags: string[], limit: number) =>
    data
      .get(namespace)!
      .filter((r) => (r.expiresAt === null || r.expiresAt > NOW) && tags.every((t) => r.tags.includes(t)))
      .map((r) => ({ key: r.key, matches: tokens.filter((t) => r.words.includes(t)).length }))
      .filter((h) => h.matches > 0)
      .sort((a, b) => b.matches - a.matches || (a.key < b.key ? -1 : 1))
      .slice(0, limit);

  const found = async (namespace: string, tokens: string[], tags: string[], limit: number) =>
    (await search.searchRecords({ tenantId: TENANT, namespace, tokens, tags, limit, now: NOW })).map((h) => ({
      key: h.record.key,
      matches: h.matches,
    }));

  beforeAll(async () => {
    testEnv = await createTestEnv();
    gateway = await bootApp('memory-gateway', AppModule, testEnv.env);
    ds = gateway.app.get(DataSource);
    search = gateway.app.get(MemorySearchRepository);
    await store(
      'mixed',
      Array.from({ length: 3000 }, (_, i) => ({
        key: key(i),
        words: [
          'all',
          `u${i}`,
          ...(i % 2 ? ['half'] : []),
          ...(i % 10 === 3 ? ['tenth'] : []),
          ...([17, 1234, 2999].includes(i) ? ['rare'] : []),
        ],
        tags: [...(i % 2 ? [] : ['even']), ...(i % 700 === 6 ? ['sparse'] : [])],
        expiresAt: i % 7 === 0 ? NOW - 1 : i % 7 === 1 ? NOW + 1 : null,
      })),
    );
    // The first 2,000 expired: the search must read windows up to the largest candidate list.
    await store(
      'dead',
      Array.from({ length: 2100 }, (_, i) => ({
        key: key(i),
        words: ['all'],
        tags: [],
        expiresAt: i < 2000 ? NOW : null,
      })),
    );
  });
  afterAll(async () => {
    await gateway?.close();
    await testEnv?.cleanup();
  });

  it.each([
    [['all'], [], 10],
    [['all'], [], 100],
    [['all', 'rare'], [], 5],
    [['half', 'tenth'], [], 20],
    [['tenth', 'rare', 'u17', 'u1234'], [], 10],
    [['half', 'all'], ['sparse'], 10],
    [['all'], ['even', 'sparse'], 10],
    [['u2999', 'nothing'], [], 10],
    [['nothing'], [], 10],
    [['all', 'half', 'tenth', 'rare'], ['even'], 1],
  ])('words %j, tags %j, limit %d: the same as counting every posting', async (tokens, tags, limit) => {
    expect(await found('mixed', tokens, tags, limit)).toEqual(bruteForce('mixed', tokens, tags, limit));
  });

  it('skips 2,000 expired records to the live ones behind them', async () => {
    const hits = await found('dead', ['all'], [], 100);
    expect(hits).toEqual(Array.from({ length: 100 }, (_, i) => ({ key: key(2000 + i), matches: 1 })));
  });
});
