/** Every scope a credential can hold (CONTRACT §3). */
export const SCOPES = [
  'llm',
  'memory:read',
  'memory:write',
  'audit:read',
  'admin',
  'platform:admin',
] as const;

export type Scope = (typeof SCOPES)[number];

const KNOWN = new Set<string>(SCOPES);

export function isScope(value: unknown): value is Scope {
  return typeof value === 'string' && KNOWN.has(value);
}

/**
 * Scopes carried by a token claim: a space- (RFC 8693) or comma-separated string, or an array
 * (`scp` style). Unknown entries (an IdP's `openid`, `profile`, …) are ignored, never an error.
 */
export function scopesFromClaim(value: unknown): Scope[] {
  const raw = typeof value === 'string' ? value.split(/[\s,]+/) : Array.isArray(value) ? value : [];
  const out = new Set<Scope>();
  for (const s of raw) if (isScope(s)) out.add(s);
  return SCOPES.filter((s) => out.has(s));
}

/**
 * Parses a user-supplied list (`llm,admin`), rejecting unknown names: a typo here would mint a
 * credential that silently lacks a scope.
 * @throws Error naming the unknown scopes
 */
export function parseScopeList(list: string): Scope[] {
  const parts = list
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = parts.filter((s) => !isScope(s));
  if (unknown.length)
    throw new Error(`unknown scope(s): ${unknown.join(', ')} (known: ${SCOPES.join(', ')})`);
  if (!parts.length) throw new Error(`no scopes given (known: ${SCOPES.join(', ')})`);
  return SCOPES.filter((s) => parts.includes(s));
}

/** The scopes in `required` that `held` lacks (empty when every required scope is held). */
export function missingScopes(held: readonly Scope[], required: readonly Scope[]): Scope[] {
  return required.filter((s) => !held.includes(s));
}
