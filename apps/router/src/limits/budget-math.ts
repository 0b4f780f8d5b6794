import type { CatalogModel } from '../routing/catalog';

/** Integer nano-dollars: counters add exactly, so concurrent settlements never drift. */
export const NANO_PER_USD = 1_000_000_000;

export const usdToNano = (usd: number): number => Math.round(usd * NANO_PER_USD);
export const nanoToUsd = (nano: number): number => nano / NANO_PER_USD;

/** Budget period of an instant: the UTC calendar month, `YYYY-MM`. */
export function budgetMonth(at: number): string {
  // Every request asks; the answer changes once a month.
  if (at >= lastMonth.from && at < lastMonth.to) return lastMonth.label;
  const d = new Date(at);
  const label = `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
  lastMonth = { from: monthStart(at).getTime(), to: nextMonthStart(at).getTime(), label };
  return label;
}

let lastMonth = { from: 0, to: 0, label: '' };

export function monthStart(at: number): Date {
  const d = new Date(at);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
}

export function nextMonthStart(at: number): Date {
  const d = new Date(at);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1));
}

/**
 * Completion tokens the request may produce: its max_tokens, capped by the model, else the
 * model's cap. A model declared without a cap (max_output_tokens: 0) can still write no more
 * than its context window.
 */
export function maxCompletionTokens(model: CatalogModel, requested: number | null | undefined): number {
  const cap = model.maxOutputTokens > 0 ? model.maxOutputTokens : model.contextWindow;
  if (requested && requested > 0) return cap > 0 ? Math.min(requested, cap) : requested;
  return cap;
}

/**
 * The most a call can cost, in nano-USD, over every candidate it may fall back to:
 * (prompt tokens × the higher of the input and cache-write prices + max completion tokens ×
 * output price) × choices. With
 * `promptTokens` an upper bound (prompt-bound.ts) this never under-covers the vendor's bill;
 * rounded up for the same reason.
 */
export function worstCaseNano(
  candidates: readonly CatalogModel[],
  promptTokens: number,
  requestedMaxTokens: number | null | undefined,
  choices = 1,
): number {
  let worst = 0;
  for (const m of candidates) {
    const out = maxCompletionTokens(m, requestedMaxTokens);
    // price per 1M tokens × tokens / 1e6 × 1e9 nano = price × tokens × 1000; a vendor without
    // native n bills the prompt once per choice, so both parts scale with it.
    // A prompt token may be billed as a prompt-cache write (Anthropic: 1.25x input), never more.
    const promptPer1M = Math.max(m.inputPer1M, m.cacheWritePer1M ?? 0);
    const nano = (promptTokens * promptPer1M * 1000 + out * m.outputPer1M * 1000) * Math.max(1, choices);
    worst = Math.max(worst, Math.ceil(nano - 1e-6));
  }
  return worst;
}
