/** How the memory gateway treats PII for a tenant or key. */
export const PII_MODES = ['off', 'redact', 'block'] as const;
export type PiiMode = (typeof PII_MODES)[number];

/**
 * Limits of a tenant or of one API key (CONTRACT §6). A field that is absent does not apply:
 * a new tenant or key is unlimited until an admin sets limits. Enforcement lives elsewhere;
 * this library stores and returns them.
 */
export interface Limits {
  rpm?: number;
  tpm?: number;
  concurrency?: number;
  monthlyBudgetUsd?: number;
  allowedModels?: string[];
  piiMode?: PiiMode;
}

const NUMERIC = ['rpm', 'tpm', 'concurrency', 'monthlyBudgetUsd'] as const;

/**
 * Drops unset fields (undefined or null) and duplicate models, so what is stored is exactly what
 * applies. Input is assumed validated (DTO or CLI); stored JSON is re-read through this too.
 */
export function normalizeLimits(
  input: { [K in keyof Limits]?: Limits[K] | null } | null | undefined,
): Limits {
  const out: Limits = {};
  if (!input || typeof input !== 'object') return out;
  for (const k of NUMERIC) {
    const v = input[k];
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) out[k] = v;
  }
  if (Array.isArray(input.allowedModels)) {
    out.allowedModels = [
      ...new Set(input.allowedModels.filter((m): m is string => typeof m === 'string' && m !== '')),
    ];
  }
  if (input.piiMode && (PII_MODES as readonly string[]).includes(input.piiMode)) out.piiMode = input.piiMode;
  return out;
}
