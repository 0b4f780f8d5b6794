import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, type Repository } from 'typeorm';
import { isUuid } from '../ids';
import { type Limits, normalizeLimits } from '../limits';
import type { Scope } from '../scopes';
import { ApiKeyEntity } from './api-key.entity';

/** An API key as the rest of the code sees it (never the hash). */
export interface ApiKeyRecord {
  id: string;
  tenantId: string;
  name: string;
  prefix: string;
  scopes: Scope[];
  limits: Limits | null;
  createdBy: string | null;
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

export interface NewApiKey extends Omit<ApiKeyRecord, 'revokedAt' | 'lastUsedAt'> {
  keyHash: string;
}

function toRecord(row: ApiKeyEntity): ApiKeyRecord {
  return {
    id: row.id,
    tenantId: row.tenantId,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes,
    limits: row.limits ? normalizeLimits(row.limits) : null,
    createdBy: row.createdBy,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    revokedAt: row.revokedAt,
    lastUsedAt: row.lastUsedAt,
  };
}

/**
 * The only code that touches `api_keys`. Every method that reads or changes a tenant's keys
 * takes the tenant id; the two exceptions are named for why: authentication (the key is what
 * identifies the tenant) and the operator's CLI.
 */
@Injectable()
export class ApiKeyRepository {
  constructor(@InjectRepository(ApiKeyEntity) private readonly repo: Repository<ApiKeyEntity>) {}

  async insertKey(key: NewApiKey): Promise<void> {
    await this.repo.insert({ ...key, revokedAt: null, lastUsedAt: null });
  }

  /** The tenant's keys that are not revoked (expired ones included), newest first. */
  async listActiveKeys(tenantId: string): Promise<ApiKeyRecord[]> {
    if (!isUuid(tenantId)) return [];
    const rows = await this.repo.find({
      where: { tenantId, revokedAt: IsNull() },
      order: { createdAt: 'DESC', id: 'ASC' },
    });
    return rows.map(toRecord);
  }

  /** @returns false when the tenant has no such unrevoked key */
  async revokeKey(tenantId: string, keyId: string, at: Date): Promise<boolean> {
    if (!isUuid(tenantId) || !isUuid(keyId)) return false;
    const res = await this.repo.update({ id: keyId, tenantId, revokedAt: IsNull() }, { revokedAt: at });
    return (res.affected ?? 0) > 0;
  }

  /** @returns false when the tenant has no such unrevoked key */
  async replaceKeyLimits(tenantId: string, keyId: string, limits: Limits | null): Promise<boolean> {
    if (!isUuid(tenantId) || !isUuid(keyId)) return false;
    const res = await this.repo.update({ id: keyId, tenantId, revokedAt: IsNull() }, { limits });
    return (res.affected ?? 0) > 0;
  }

  /** Authentication: the key (by its hash) selects the tenant, so this lookup is tenant-less by design. */
  async findActiveKeyByHash(keyHash: string): Promise<ApiKeyRecord | null> {
    const row = await this.repo.findOne({ where: { keyHash, revokedAt: IsNull() } });
    return row ? toRecord(row) : null;
  }

  /** Operator CLI only (`keys revoke <id>`): which tenant owns a key. */
  async findOwnerTenantId(keyId: string): Promise<string | null> {
    if (!isUuid(keyId)) return null;
    const row = await this.repo.findOne({ where: { id: keyId }, select: { id: true, tenantId: true } });
    return row?.tenantId ?? null;
  }

  async recordLastUsed(tenantId: string, keyId: string, at: Date): Promise<void> {
    await this.repo.update({ id: keyId, tenantId }, { lastUsedAt: at });
  }
}
