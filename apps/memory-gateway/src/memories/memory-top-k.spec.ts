import fc from 'fast-check';
import { type Hit, type PostingIndex, type PostingList, topK } from './memory-top-k';

interface FakeRecord {
  key: string;
  words: Set<string>;
  tags: Set<string>;
  live: boolean;
}

/** The posting tables in memory, counting what a search reads. */
class FakeIndex implements PostingIndex {
  postingsRead = 0;
  scored = 0;
  rounds = 0;

  constructor(private readonly records: FakeRecord[]) {}

  pages(lists: readonly PostingList[], after: string, limit: number): Promise<string[][]> {
    this.rounds++;
    const pages = lists.map((list) =>
      this.records
        .filter((r) => (list.kind === 'token' ? r.words : r.tags).has(list.hash) && r.key > after)
        .map((r) => r.key)
        .sort()
        .slice(0, limit),
    );
    this.postingsRead += pages.reduce((n, p) => n + p.length, 0);
    return Promise.resolve(pages);
  }

  score(keys: readonly string[]): Promise<Hit[]> {
    this.scored += keys.length;
    expect([...keys]).toEqual([...keys].sort());
    return Promise.resolve(
      keys.flatMap((key) => {
        const r = this.records.find((x) => x.key === key)!;
        return this.qualifies(r) ? [{ key, matches: this.matches(r) }] : [];
      }),
    );
  }

  query: { tokens: string[]; tags: string[] } = { tokens: [], tags: [] };

  matches(r: FakeRecord): number {
    return this.query.tokens.filter((t) => r.words.has(t)).length;
  }

  qualifies(r: FakeRecord): boolean {
    return r.live && this.query.tags.every((t) => r.tags.has(t)) && this.matches(r) > 0;
  }

  search(tokens: string[], tags: string[], limit: number): Promise<Hit[]> {
    this.query = { tokens: [...new Set(tokens)], tags: [...new Set(tags)] };
    return topK({ tokens, tags, limit }, this);
  }

  /** Every posting counted, then sorted: what the search must equal. */
  bruteForce(tokens: string[], tags: string[], limit: number): Hit[] {
    this.query = { tokens: [...new Set(tokens)], tags: [...new Set(tags)] };
    return this.records
      .filter((r) => this.qualifies(r))
      .map((r) => ({ key: r.key, matches: this.matches(r) }))
      .sort((a, b) => b.matches - a.matches || (a.key < b.key ? -1 : 1))
      .slice(0, limit);
  }
}

const key = (i: number) => `k${String(i).padStart(6, '0')}`;

function corpus(n: number, wordsOf: (i: number) => string[], tagsOf: (i: number) => string[] = () => []) {
  return Array.from({ length: n }, (_, i) => ({
    key: key(i),
    words: new Set(wordsOf(i)),
    tags: new Set(tagsOf(i)),
    live: true,
  }));
}

describe('topK', () => {
  it('equals counting every posting, for random records, queries, tags, expiries and limits', async () => {
    const vocabulary = ['a', 'b', 'c', 'd', 'e', 'f'];
    const record = fc.record({
      words: fc.subarray(vocabulary),
      tags: fc.subarray(['x', 'y', 'z']),
      live: fc.integer({ min: 0, max: 4 }).map((n) => n > 0),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(record, { maxLength: 120 }),
        fc.array(fc.constantFrom(...vocabulary, 'unknown'), { minLength: 1, maxLength: 5 }),
        fc.subarray(['x', 'y', 'z', 'none'], { maxLength: 2 }),
        fc.integer({ min: 1, max: 12 }),
        async (records, tokens, tags, limit) => {
          const index = new FakeIndex(
            records.map((r, i) => ({
              key: key(i),
              words: new Set(r.words),
              tags: new Set(r.tags),
              live: r.live,
            })),
          );
          expect(await index.search(tokens, tags, limit)).toEqual(index.bruteForce(tokens, tags, limit));
        },
      ),
      { seed: 19_005, numRuns: 400 },
    );
  });

  it('reads about `limit` postings for a word in every record, however many records hold it', async () => {
    for (const n of [1_000, 20_000]) {
      const index = new FakeIndex(corpus(n, () => ['common']));
      const hits = await index.search(['common'], [], 10);
      expect(hits.map((h) => h.key)).toEqual(Array.from({ length: 10 }, (_, i) => key(i)));
      expect(index.postingsRead).toBe(20);
      expect(index.scored).toBe(20);
    }
  });

  it('stops as soon as `limit` records hold every word', async () => {
    const index = new FakeIndex(corpus(20_000, (i) => ['common', 'other', ...(i % 3 ? [] : ['third'])]));
    const hits = await index.search(['common', 'other', 'third'], [], 10);
    expect(hits).toEqual(Array.from({ length: 10 }, (_, i) => ({ key: key(i * 3), matches: 3 })));
    expect(index.postingsRead).toBeLessThanOrEqual(3 * 20 + 40);
  });

  it('a common word beside a rare one: reads the rare word`s postings, not the common word`s', async () => {
    const rare = new Set([17, 4_000, 19_999]);
    const index = new FakeIndex(corpus(20_000, (i) => ['common', ...(rare.has(i) ? ['rare'] : [])]));
    const hits = await index.search(['common', 'rare'], [], 5);
    expect(hits).toEqual([
      { key: key(17), matches: 2 },
      { key: key(4_000), matches: 2 },
      { key: key(19_999), matches: 2 },
      { key: key(0), matches: 1 },
      { key: key(1), matches: 1 },
    ]);
    expect(index.postingsRead).toBeLessThan(100);
  });

  it('a rare tag drives the search when a common word would make every record a candidate', async () => {
    const index = new FakeIndex(
      corpus(
        20_000,
        () => ['common'],
        (i) => (i % 5_000 === 1 ? ['rare-tag'] : ['everywhere']),
      ),
    );
    const hits = await index.search(['common'], ['rare-tag'], 10);
    expect(hits.map((h) => h.key)).toEqual([key(1), key(5_001), key(10_001), key(15_001)]);
    expect(index.postingsRead).toBeLessThan(100);
  });

  it('skips expired records and still fills the limit from further on', async () => {
    const records = corpus(200, () => ['w']);
    for (const r of records.slice(0, 150)) r.live = false;
    const index = new FakeIndex(records);
    expect((await index.search(['w'], [], 10)).map((h) => h.key)).toEqual(
      Array.from({ length: 10 }, (_, i) => key(150 + i)),
    );
  });

  it('no words: no results and no reads', async () => {
    const index = new FakeIndex(corpus(10, () => ['w']));
    expect(await index.search([], [], 10)).toEqual([]);
    expect(index.rounds).toBe(0);
  });
});
