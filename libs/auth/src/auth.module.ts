import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { KV_STORE, type KvStore } from '@app/cache';
import type { AppConfig } from '@app/config';
import { ApiKeyEntity } from './api-keys/api-key.entity';
import { ApiKeyRepository } from './api-keys/api-key.repository';
import { ApiKeyService } from './api-keys/api-key.service';
import { ApiKeyVerifier } from './api-keys/api-key.verifier';
import { RevocationBus } from './api-keys/revocation-bus';
import { AuthGuard } from './auth.guard';
import { AUTH_SETTINGS, OIDC_STRATEGY_TOKEN } from './auth.tokens';
import { type AuthSettings, resolveAuthSettings } from './auth-settings';
import { DevCredentialsBootstrap } from './bootstrap/dev-credentials.bootstrap';
import { AuthClock } from './clock';
import { CredentialAuthenticator } from './credential-authenticator';
import { AuthEvents } from './events/auth-events';
import { OidcKeySet } from './oidc/oidc-key-set';
import { ApiKeyStrategy } from './strategies/api-key.strategy';
import { OidcStrategy } from './strategies/oidc.strategy';
import { AUTH_PASSPORT, type AppAuthenticator, createAuthenticator } from './strategies/passport-registry';
import { PlatformJwtStrategy } from './strategies/platform-jwt.strategy';
import { TenantEntity } from './tenants/tenant.entity';
import { TenantDirectory } from './tenants/tenant-directory';
import { TenantRepository } from './tenants/tenant.repository';
import { TenantService } from './tenants/tenant.service';

/** Entities of this library, for DataSources built outside Nest (the CLI). */
export const AUTH_ENTITIES = [TenantEntity, ApiKeyEntity];

/**
 * Authentication and tenancy for both services: the global {@link AuthGuard}, the three
 * credential types, tenants and API keys, and the development bootstrap. Global, so feature
 * modules use `@Scopes()`, `@Caller()` and the services without importing it.
 * Needs DatabaseModule (TypeORM) and CacheModule (KV_STORE) in the app.
 */
@Module({})
export class AuthModule {
  /** @throws AuthConfigError for unusable OIDC settings (the service does not start). */
  static forRoot(config: AppConfig): DynamicModule {
    const settings = resolveAuthSettings(config);
    const providers: Provider[] = [
      { provide: AUTH_SETTINGS, useValue: settings },
      { provide: AUTH_PASSPORT, useFactory: createAuthenticator },
      AuthClock,
      AuthEvents,
      TenantRepository,
      ApiKeyRepository,
      { provide: RevocationBus, useFactory: (kv: KvStore) => new RevocationBus(kv), inject: [KV_STORE] },
      {
        provide: TenantDirectory,
        useFactory: (tenants: TenantRepository, clock: AuthClock) =>
          new TenantDirectory(tenants, () => clock.now()),
        inject: [TenantRepository, AuthClock],
      },
      TenantService,
      ApiKeyService,
      ApiKeyVerifier,
      ApiKeyStrategy,
      PlatformJwtStrategy,
      {
        provide: OidcKeySet,
        useFactory: (s: AuthSettings, clock: AuthClock) =>
          s.oidc ? new OidcKeySet(s.oidc.issuer, () => clock.now()) : null,
        inject: [AUTH_SETTINGS, AuthClock],
      },
      {
        provide: OIDC_STRATEGY_TOKEN,
        useFactory: (
          passport: AppAuthenticator,
          s: AuthSettings,
          keys: OidcKeySet | null,
          tenants: TenantDirectory,
        ) => (s.oidc && keys ? new OidcStrategy(passport, s.oidc, keys, tenants) : null),
        inject: [AUTH_PASSPORT, AUTH_SETTINGS, OidcKeySet, TenantDirectory],
      },
      CredentialAuthenticator,
      DevCredentialsBootstrap,
      { provide: APP_GUARD, useClass: AuthGuard },
    ];
    return {
      module: AuthModule,
      global: true,
      imports: [TypeOrmModule.forFeature(AUTH_ENTITIES)],
      providers,
      exports: [
        AuthClock,
        AuthEvents,
        TenantService,
        ApiKeyService,
        ApiKeyVerifier,
        OidcKeySet,
        AUTH_SETTINGS,
        CredentialAuthenticator,
      ],
    };
  }
}
