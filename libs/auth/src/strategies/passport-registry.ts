import type { FastifyRequest } from 'fastify';
import { Passport } from 'passport';

/** Injection token: this app's own passport Authenticator. */
export const AUTH_PASSPORT = Symbol('AUTH_PASSPORT');

/**
 * Strategies live on a per-app Authenticator, not passport's process-wide singleton: with the
 * singleton (what @nestjs/passport's AuthGuard uses), two app instances in one process — tests,
 * the two-replica suite — would silently share the last-registered strategies, caches and
 * database connections.
 */
export function createAuthenticator(): AppAuthenticator {
  return new Passport();
}

/** A passport Authenticator (what `new Passport()` makes). */
export type AppAuthenticator = InstanceType<typeof Passport>;

/**
 * Returned from `getPassportInstance()` so @nestjs/passport's PassportStrategy mixin does not
 * register on the singleton; each strategy registers itself on the injected {@link AUTH_PASSPORT}.
 */
export interface DetachedRegistry {
  use(...args: unknown[]): DetachedRegistry;
}

export const DETACHED_REGISTRY: DetachedRegistry = {
  use: () => DETACHED_REGISTRY,
};

/** Where the guard leaves the (already parsed) bearer credential for the strategies. */
const BEARER_CREDENTIAL = Symbol('atp.bearerCredential');

type WithCredential = { [BEARER_CREDENTIAL]?: string };

export function setBearerCredential(req: FastifyRequest, credential: string): void {
  (req as unknown as WithCredential)[BEARER_CREDENTIAL] = credential;
}

/** passport-jwt's `jwtFromRequest` and the API key strategy read the credential from here. */
export function bearerCredentialOf(req: unknown): string | null {
  return (req as WithCredential | null)?.[BEARER_CREDENTIAL] ?? null;
}
