import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AtpError } from '@app/common';
import { AuthClock } from '../clock';
import { AuthEvents } from '../events/auth-events';
import { isUuid } from '../ids';
import { type Limits, normalizeLimits } from '../limits';
import type { Caller } from '../caller';
import { missingScopes, type Scope } from '../scopes';
import { TenantRepository } from '../tenants/tenant.repository';
import { displayPrefix, generateApiKey, hashApiKey } from './api-key.format';
import { type ApiKeyRecord, ApiKeyRepository } from './api-key.repository';
import { RevocationBus } from './revocation-bus';

export interface CreateApiKeyParams {
  tenantId: string;
  name: string;
  scopes: Scope[];
  expiresAt?: Date | null;
  limits?: Limits | null;
  actor: Caller;
}

export interface CreatedApiKey {
  /** The key itself: returned once, never stored, never logged. */
  key: string;
  record: ApiKeyRecord;
}

/** API key use cases, shared by the admin API and the CLI. */
@Injectable()
export class ApiKeyService {
  constructor(
    private readonly keys: ApiKeyRepository,
    private readonly tenants: TenantRepository,
    private readonly bus: RevocationBus,
    private readonly events: AuthEvents,
    private readonly clock: AuthClock,
  ) {}

  /**
   * @throws AtpError 403 when the actor would grant scopes it does not hold (no escalation),
   * 400 for an expiry in the past, 404 for an unknown tenant
   */
  async createKey(params: CreateApiKeyParams): Promise<CreatedApiKey> {
    const { actor, tenantId } = params;
    const escalation = missingScopes(actor.scopes, params.scopes);
    if (escalation.length) {
      throw new AtpError(
        403,
        'insufficient_scope',
        `A key cannot be granted scopes its creator does not hold: ${escalation.join(', ')}`,
        {
          param: 'scopes',
        },
      );
    }
    const now = this.clock.now();
    if (params.expiresAt && params.expiresAt.getTime() <= now) {
      throw AtpError.badRequest('invalid_request', 'expires_at must be in the future', 'expires_at');
    }
    if (!(await this.tenants.tenantExists(tenantId))) {
      throw AtpError.notFound('tenant_not_found', `No tenant with id "${tenantId}"`);
    }
    const key = generateApiKey();
    const record: ApiKeyRecord = {
      id: randomUUID(),
      tenantId,
      name: params.name,
      prefix: displayPrefix(key),
      scopes: params.scopes,
      limits: params.limits ? normalizeLimits(params.limits) : null,
      createdBy: actor.subject,
      createdAt: new Date(now),
      expiresAt: params.expiresAt ?? null,
      revokedAt: null,
      lastUsedAt: null,
    };
    await this.keys.insertKey({ ...record, keyHash: hashApiKey(key) });
    this.emit('apikey.created', 201, record, actor);
    return { key, record };
  }

  listKeys(tenantId: string): Promise<ApiKeyRecord[]> {
    return this.keys.listActiveKeys(tenantId);
  }

  /**
   * Revokes one of the tenant's keys; every replica stops accepting it within seconds. Another
   * tenant's key id is indistinguishable from an unknown one.
   * @throws AtpError 404 `api_key_not_found`
   */
  async revokeKey(params: { tenantId: string; keyId: string; actor: Caller }): Promise<void> {
    const { tenantId, keyId, actor } = params;
    const at = new Date(this.clock.now());
    if (!isUuid(keyId) || !(await this.keys.revokeKey(tenantId, keyId, at))) {
      throw AtpError.notFound('api_key_not_found', `No active API key with id "${keyId}" in this tenant`);
    }
    await this.bus.announce({ id: keyId, tenant_id: tenantId });
    this.emit('apikey.revoked', 204, { id: keyId, tenantId }, actor);
  }

  /**
   * Replaces one key's own limits (PUT semantics; null or {} removes them). Every replica drops
   * the key from its verified-key cache, so the next request reads the new limits.
   * @throws AtpError 404 `api_key_not_found`
   */
  async updateKeyLimits(params: {
    tenantId: string;
    keyId: string;
    limits: Limits | null;
    actor: Caller;
  }): Promise<Limits | null> {
    const { tenantId, keyId, actor } = params;
    const normalized = params.limits ? normalizeLimits(params.limits) : null;
    const stored = normalized && Object.keys(normalized).length ? normalized : null;
    if (!(await this.keys.replaceKeyLimits(tenantId, keyId, stored))) {
      throw AtpError.notFound('api_key_not_found', `No active API key with id "${keyId}" in this tenant`);
    }
    await this.bus.announce({ id: keyId, tenant_id: tenantId });
    this.emit('limits.updated', 200, { id: keyId, tenantId }, actor);
    return stored;
  }

  /** Operator CLI: revoke by id alone (the CLI has database access, so it is platform-wide). */
  async revokeKeyAnyTenant(params: { keyId: string; actor: Caller }): Promise<{ tenantId: string }> {
    const tenantId = await this.keys.findOwnerTenantId(params.keyId);
    if (!tenantId) throw AtpError.notFound('api_key_not_found', `No API key with id "${params.keyId}"`);
    await this.revokeKey({ tenantId, keyId: params.keyId, actor: params.actor });
    return { tenantId };
  }

  private emit(
    action: 'apikey.created' | 'apikey.revoked' | 'limits.updated',
    statusCode: number,
    key: { id: string; tenantId: string },
    actor: Caller,
  ): void {
    this.events.emit({
      action,
      outcome: 'success',
      tenantId: key.tenantId,
      actorId: actor.subject,
      credentialId: actor.credentialId,
      statusCode,
      requestId: actor.requestId,
      sourceIp: actor.sourceIp,
      resourceType: 'api_key',
      resourceId: key.id,
      at: new Date(this.clock.now()),
    });
  }
}
