import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { IS_PUBLIC_KEY, REQUIRED_SCOPES_KEY } from './auth.constants';
import type { Scope } from './scopes';

/** Opens a route to unauthenticated callers (routes under /v1 are closed by default). */
export const Public = () => SetMetadata(IS_PUBLIC_KEY, true);

/**
 * Requires a valid credential holding every listed scope (401 without one, 403 without a
 * scope). On a controller and a handler, the scopes add up. `@Scopes()` with none: any valid
 * credential.
 */
export function Scopes(...scopes: Scope[]): ClassDecorator & MethodDecorator {
  return applyDecorators(
    SetMetadata(REQUIRED_SCOPES_KEY, scopes),
    ApiBearerAuth(),
    ApiUnauthorizedResponse({ description: 'No credential, or an invalid, expired or revoked one' }),
    ...(scopes.length
      ? [
          ApiForbiddenResponse({
            description: `The credential lacks a required scope (${scopes.join(', ')})`,
          }),
        ]
      : []),
  );
}

/** Any valid credential, no particular scope. */
export const Authenticated = () => Scopes();
