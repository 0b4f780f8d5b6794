/** Reflection keys of the auth decorators. */
export const IS_PUBLIC_KEY = 'atp:auth:public';
export const REQUIRED_SCOPES_KEY = 'atp:auth:scopes';

/** passport strategy names, registered on each app's own Authenticator. */
export const API_KEY_STRATEGY = 'atp-api-key';
export const PLATFORM_JWT_STRATEGY = 'atp-platform-jwt';
export const OIDC_STRATEGY = 'atp-oidc';

/** KvStore pub/sub channel on which every replica hears about revoked keys. */
export const API_KEY_REVOKED_CHANNEL = 'auth:api-key-revoked';

/** Verified API keys are trusted from memory this long; it bounds revocation lag if pub/sub is lost. */
export const API_KEY_CACHE_TTL_MS = 5_000;

/** JWT clock skew allowed on `exp`/`nbf`, in seconds. */
export const CLOCK_TOLERANCE_SECONDS = 60;
