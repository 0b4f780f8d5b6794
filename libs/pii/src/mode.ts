import { assertPiiMode } from './operators';
import type { PiiMode } from './pii.types';

export interface PiiModeSources {
  /** `PII_DETECTION_ENABLED`: false turns detection off everywhere (the operator's switch). */
  enabled: boolean;
  /** The tenant's `pii_mode`, when set. */
  tenantMode?: string | null;
  /** A namespace's own mode, when set; it wins over the tenant's. */
  namespaceMode?: string | null;
}

/** The default when detection is enabled and neither the tenant nor the namespace chose one. */
export const DEFAULT_PII_MODE: PiiMode = 'redact';

/** Namespace overrides tenant overrides the default; throws PiiError on an unknown mode string. */
export function resolvePiiMode(sources: PiiModeSources): PiiMode {
  if (!sources.enabled) return 'off';
  const chosen = sources.namespaceMode ?? sources.tenantMode ?? DEFAULT_PII_MODE;
  assertPiiMode(chosen);
  return chosen;
}
