import { AtpError } from '@app/common';
import type { Scope } from './scopes';

/** The auth errors clients see; codes are stable (CONTRACT §4), messages are for people. */
export const AuthErrors = {
  missingCredential: () =>
    AtpError.unauthorized(
      'missing_credential',
      'No credential: send "Authorization: Bearer <API key or token>"',
    ),
  malformedHeader: () =>
    AtpError.unauthorized(
      'invalid_authorization_header',
      'The Authorization header must be "Bearer <credential>" with one API key (atp_…) or JWT',
    ),
  invalidApiKey: (why = 'The API key is unknown or has been revoked') =>
    AtpError.unauthorized('invalid_api_key', why),
  invalidToken: (why: string) => AtpError.unauthorized('invalid_token', why),
  insufficientScope: (missing: Scope[]) =>
    AtpError.forbidden(
      'insufficient_scope',
      `This request needs the scope${missing.length > 1 ? 's' : ''} ${missing.map((s) => `"${s}"`).join(', ')}, which the credential does not have`,
    ),
  unavailable: (what: string, dependency?: string) =>
    AtpError.unavailable('auth_unavailable', `${what} is temporarily unavailable; retry shortly`, dependency),
};

interface JwtLibraryError {
  name?: unknown;
  message?: unknown;
}

/**
 * jsonwebtoken's failures as `invalid_token` with a message that says what to fix. The library's
 * own messages can echo the expected issuer/audience; they are not passed through.
 */
export function tokenErrorFrom(err: unknown): AtpError {
  if (err instanceof AtpError) return err;
  const e = (err ?? {}) as JwtLibraryError;
  const message = typeof e.message === 'string' ? e.message : '';
  if (e.name === 'TokenExpiredError') return AuthErrors.invalidToken('The token has expired');
  if (e.name === 'NotBeforeError')
    return AuthErrors.invalidToken('The token is not valid yet (nbf is in the future)');
  if (message.startsWith('jwt audience invalid'))
    return AuthErrors.invalidToken('The token audience (aud) is not accepted');
  if (message.startsWith('jwt issuer invalid'))
    return AuthErrors.invalidToken('The token issuer (iss) is not accepted');
  if (message === 'invalid signature') return AuthErrors.invalidToken('The token signature is invalid');
  if (message === 'invalid algorithm') return AuthErrors.invalidToken('The token algorithm is not accepted');
  return AuthErrors.invalidToken('The token is invalid');
}
