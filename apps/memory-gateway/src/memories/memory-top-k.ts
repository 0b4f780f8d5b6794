/** One posting list: the keys of the records holding a hashed word (`token`) or a hashed tag. */
export interface PostingList {
  kind: 'token' | 'tag';
  hash: string;
}

/** What the top-k search reads. Keys compare as the database orders them (byte-wise). */
export interface PostingIndex {
  /** For each list, up to `limit` of its keys greater than `after`, ascending. */
  pages(lists: readonly PostingList[], after: string, limit: number): Promise<string[][]>;
  /**
   * Of these keys (ascending), the live records that hold every tag of the query and at least one
   * of its words, with how many of its words each holds.
   */
  score(keys: readonly string[]): Promise<Hit[]>;
}

export interface Hit {
  key: string;
  matches: number;
}

export interface TopKQuery {
  /** Hashed words (distinct): a record's score is how many of them it holds. */
  tokens: readonly string[];
  /** Hashed tags: a record must hold every one. */
  tags: readonly string[];
  limit: number;
}

/** Keys scored per round at most (the IN list of one statement). */
export const MAX_CANDIDATES = 1000;

/** Keys are 1–128 characters, so every key sorts after the empty string. */
const START = '';

/**
 * The `limit` records holding the most query words, ties by key — read in key order, window by
 * window, instead of counting every posting of every word. Exact, by the MaxScore argument for
 * unit weights: once k records with at least θ matches are found, a record further on in key
 * order must hold θ + 1 words to enter the top k (it loses ties on key), so it appears in at least
 * one of ANY n − θ of the n word lists. Each window therefore reads candidates only from the
 * n − θ sparsest word lists (or from one tag list, when a tag is sparser: every result holds
 * it), and scores them exactly against all lists. A one-word query reads about `limit` postings
 * however common the word is; a longer one stops as soon as k records hold every word, and
 * otherwise reads the postings of its rarer words only.
 */
export async function topK(query: TopKQuery, index: PostingIndex): Promise<Hit[]> {
  const words = [...new Set(query.tokens)].map((hash): PostingList => ({ kind: 'token', hash }));
  const tags = [...new Set(query.tags)].map((hash): PostingList => ({ kind: 'tag', hash }));
  const limit = query.limit;
  // A result holds at least one of the words.
  if (!words.length) return [];
  const sparsity = new Sparsity();
  let best: Hit[] = [];
  let after = START;
  let pageSize = Math.max(2 * limit, 20);
  // The first window reads every list, and what it learns about their density picks the lists
  // its candidates come from; each later window reads only the lists chosen before it.
  let read = [...words, ...tags];
  let driver: PostingList[] | null = null;
  for (;;) {
    const size = perList(pageSize, read.length);
    const pages = await index.pages(read, after, size);
    read.forEach((list, i) => sparsity.learn(list, pages[i]!, size));
    driver ??= chooseDriver(words, tags, 0, sparsity);
    const window = candidates(driver, read, pages, size);
    if (window.keys.length) best = merge(best, await index.score(window.keys), limit);
    if (window.upper === null) return best;
    after = window.upper;
    const threshold = best.length < limit ? 0 : best[limit - 1]!.matches;
    // k records hold every word: a record further on can at best tie, and loses on its key.
    if (threshold >= words.length) return best;
    pageSize = Math.min(pageSize * 2, MAX_CANDIDATES);
    driver = read = chooseDriver(words, tags, threshold, sparsity);
  }
}

/** Each list's page, so one round never scores more than MAX_CANDIDATES keys. */
function perList(pageSize: number, lists: number): number {
  return Math.max(1, Math.min(pageSize, Math.floor(MAX_CANDIDATES / lists)));
}

/**
 * The keys this window scores: the driver lists' keys up to the first full page's last key (a
 * list whose page is full may hold more keys beyond it, to be read in the next window). `upper`
 * is null when every driver list is exhausted.
 */
function candidates(
  driver: readonly PostingList[],
  read: readonly PostingList[],
  pages: readonly string[][],
  pageSize: number,
): { keys: string[]; upper: string | null } {
  const driverPages = driver.map((list) => pages[read.indexOf(list)]!);
  let upper: string | null = null;
  for (const page of driverPages) {
    if (page.length < pageSize) continue;
    const last = page[page.length - 1]!;
    if (upper === null || last < upper) upper = last;
  }
  const keys = new Set<string>();
  for (const page of driverPages) {
    for (const key of page) if (upper === null || key <= upper) keys.add(key);
  }
  return { keys: [...keys].sort(byKey), upper };
}

/**
 * Where the next window's candidates come from: the n − threshold sparsest word lists, or the
 * sparsest tag list when it is no denser than the densest of those (it alone then yields fewer
 * candidates than their union).
 */
function chooseDriver(
  words: readonly PostingList[],
  tags: readonly PostingList[],
  threshold: number,
  sparsity: Sparsity,
): PostingList[] {
  const essential = sparsity.sparsestFirst(words).slice(0, words.length - threshold);
  const [tag] = sparsity.sparsestFirst(tags);
  if (tag && sparsity.compare(tag, essential[essential.length - 1]!) <= 0) return [tag];
  return essential;
}

/**
 * How sparse each list looked when last read: exhausted (its page came back short: no key left
 * past the window), else the last key of its page — a list whose page reaches further in key
 * order holds fewer keys per range. Only an estimate; it decides cost, never the result.
 */
class Sparsity {
  private readonly reach = new Map<PostingList, string | null>();

  learn(list: PostingList, page: readonly string[], pageSize: number): void {
    this.reach.set(list, page.length < pageSize ? null : page[page.length - 1]!);
  }

  /** Negative when `a` is sparser than `b`. */
  compare(a: PostingList, b: PostingList): number {
    // Every list is read in the first window, so each has a reach from then on.
    const ra = this.reach.get(a) as string | null;
    const rb = this.reach.get(b) as string | null;
    if (ra === rb) return 0;
    if (ra === null) return -1;
    if (rb === null) return 1;
    return ra > rb ? -1 : 1;
  }

  sparsestFirst(lists: readonly PostingList[]): PostingList[] {
    return [...lists].sort((a, b) => this.compare(a, b));
  }
}

const byKey = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The best `limit` hits of both: most matches first, then key order. */
function merge(best: readonly Hit[], more: readonly Hit[], limit: number): Hit[] {
  return [...best, ...more].sort((a, b) => b.matches - a.matches || byKey(a.key, b.key)).slice(0, limit);
}
