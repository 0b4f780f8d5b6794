/** Injection token for the resolved {@link AuthSettings}. */
export const AUTH_SETTINGS = Symbol('AUTH_SETTINGS');
/** Injection token for the OIDC strategy (null when OIDC is not configured). */
export const OIDC_STRATEGY_TOKEN = Symbol('OIDC_STRATEGY');
