import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-strategy';
import { ApiKeyVerifier } from '../api-keys/api-key.verifier';
import { API_KEY_STRATEGY } from '../auth.constants';
import { AuthErrors } from '../errors';
import type { CredentialIdentity } from '../caller';
import {
  AUTH_PASSPORT,
  bearerCredentialOf,
  DETACHED_REGISTRY,
  type AppAuthenticator,
  type DetachedRegistry,
} from './passport-registry';

type Verify = (key: string, done: (err: unknown, identity?: CredentialIdentity | false) => void) => void;

/** A passport strategy for `Authorization: Bearer atp_…` (passport-http-bearer's shape, no extra dependency). */
export class BearerApiKeyStrategy extends Strategy {
  name = API_KEY_STRATEGY;

  constructor(private readonly verifyKey: Verify) {
    super();
  }

  override authenticate(req: unknown): void {
    const key = bearerCredentialOf(req);
    if (!key) return this.fail(AuthErrors.missingCredential(), 401);
    this.verifyKey(key, (err, identity) => {
      if (err) return this.error(err as Error);
      if (!identity) return this.fail(AuthErrors.invalidApiKey(), 401);
      this.success(identity);
    });
  }
}

@Injectable()
export class ApiKeyStrategy extends PassportStrategy(BearerApiKeyStrategy, API_KEY_STRATEGY) {
  constructor(
    @Inject(AUTH_PASSPORT) passport: AppAuthenticator,
    private readonly verifier: ApiKeyVerifier,
  ) {
    super();
    passport.use(API_KEY_STRATEGY, this);
  }

  validate(key: string): Promise<CredentialIdentity> {
    return this.verifier.verify(key);
  }

  getPassportInstance(): DetachedRegistry {
    return DETACHED_REGISTRY;
  }
}
