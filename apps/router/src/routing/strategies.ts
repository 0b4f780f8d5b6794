import type { CatalogModel } from './catalog';
import type { ResolvedRoute } from './resolve-model';

/** What the router has learned about one provider+model (shared by every replica). */
export interface ModelStats {
  successes: number;
  failures: number;
  /** Exponentially weighted moving average of latency, ms (0 = never measured). */
  latencyEwmaMs: number;
}

export const EMPTY_STATS: ModelStats = { successes: 0, failures: 0, latencyEwmaMs: 0 };
export const EWMA_ALPHA = 0.2;

export function nextEwma(previous: number, sample: number, alpha = EWMA_ALPHA): number {
  return previous === 0 ? sample : alpha * sample + (1 - alpha) * previous;
}

/** Standard normal via Box–Muller. */
function gaussian(rand: () => number): number {
  const u = 1 - rand();
  const v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Gamma(shape, 1) by Marsaglia–Tsang (shape ≥ 1; boosted for shape < 1). */
function gammaSample(shape: number, rand: () => number): number {
  if (shape < 1) return gammaSample(shape + 1, rand) * Math.pow(rand(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = gaussian(rand);
    const v = Math.pow(1 + c * x, 3);
    if (v <= 0) continue;
    const u = rand();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

export function betaSample(a: number, b: number, rand: () => number = Math.random): number {
  const x = gammaSample(a, rand);
  const y = gammaSample(b, rand);
  return x / (x + y);
}

const blendedPrice = (m: CatalogModel) => m.inputPer1M + 3 * m.outputPer1M;

/**
 * Orders a route's candidates: the first is tried first, the rest are fallbacks.
 * - ordered: as configured
 * - weighted: a weighted random permutation
 * - lowest-latency: by latency EWMA (unmeasured first, so every candidate gets measured)
 * - cheapest: cheapest blended price among those meeting the quality floor
 * - learned: Thompson sampling on success rate, with latency and price as penalties
 */
export function orderCandidates(
  route: ResolvedRoute,
  statsOf: (m: CatalogModel) => ModelStats,
  rand: () => number = Math.random,
): CatalogModel[] {
  const list = route.candidates;
  switch (route.strategy) {
    case 'ordered':
      return [...list];
    case 'weighted': {
      const pool = list.map((m, i) => ({ m, w: Math.max(route.weights[i] ?? 1, 0) }));
      const out: CatalogModel[] = [];
      while (pool.length) {
        const total = pool.reduce((s, p) => s + p.w, 0);
        let r = rand() * (total || pool.length);
        let idx = 0;
        for (; idx < pool.length - 1; idx++) {
          r -= total ? pool[idx].w : 1;
          if (r < 0) break;
        }
        out.push(pool.splice(idx, 1)[0].m);
      }
      return out;
    }
    case 'lowest-latency':
      return [...list].sort((a, b) => statsOf(a).latencyEwmaMs - statsOf(b).latencyEwmaMs);
    case 'cheapest': {
      const floor = route.qualityFloor ?? 0;
      const good = list.filter((m) => m.quality >= floor);
      const rest = list.filter((m) => m.quality < floor);
      return [...good.sort((a, b) => blendedPrice(a) - blendedPrice(b)), ...rest];
    }
    case 'learned': {
      const floor = route.qualityFloor ?? 0;
      const maxLatency = Math.max(1, ...list.map((m) => statsOf(m).latencyEwmaMs));
      const maxPrice = Math.max(1e-9, ...list.map(blendedPrice));
      const scored = list.map((m) => {
        const s = statsOf(m);
        const success = betaSample(s.successes + 1, s.failures + 1, rand);
        const latencyPenalty = 0.2 * (s.latencyEwmaMs / maxLatency);
        const pricePenalty = 0.2 * (blendedPrice(m) / maxPrice);
        const qualityPenalty = m.quality < floor ? 1 : 0;
        return { m, score: success - latencyPenalty - pricePenalty - qualityPenalty };
      });
      return scored.sort((a, b) => b.score - a.score).map((s) => s.m);
    }
  }
}
