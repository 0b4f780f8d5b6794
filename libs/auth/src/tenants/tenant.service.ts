import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AtpError } from '@app/common';
import { AuthClock } from '../clock';
import { isUniqueViolation } from '../db-errors';
import { AuthEvents } from '../events/auth-events';
import { type Limits, normalizeLimits } from '../limits';
import type { Caller } from '../caller';
import { type TenantRecord, TenantRepository } from './tenant.repository';

export const TENANT_NAME_MAX = 200;

/** Tenant use cases: creation (platform admins, the CLI) and each tenant's limits. */
@Injectable()
export class TenantService {
  constructor(
    private readonly tenants: TenantRepository,
    private readonly events: AuthEvents,
    private readonly clock: AuthClock,
  ) {}

  /** @throws AtpError 409 `tenant_exists` */
  async createTenant(params: { name: string; actor: Caller }): Promise<TenantRecord> {
    const tenant: TenantRecord = {
      id: randomUUID(),
      name: params.name,
      createdAt: new Date(this.clock.now()),
    };
    try {
      await this.tenants.insertTenant(tenant);
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new AtpError(409, 'tenant_exists', `A tenant named "${params.name}" already exists`, {
          param: 'name',
        });
      }
      throw err;
    }
    this.events.emit({
      action: 'tenant.created',
      outcome: 'success',
      tenantId: tenant.id,
      actorId: params.actor.subject,
      credentialId: params.actor.credentialId,
      statusCode: 201,
      requestId: params.actor.requestId,
      sourceIp: params.actor.sourceIp,
      resourceType: 'tenant',
      resourceId: tenant.id,
      at: tenant.createdAt,
    });
    return tenant;
  }

  /** @throws AtpError 404 `tenant_not_found` */
  async getTenant(tenantId: string): Promise<TenantRecord> {
    const tenant = await this.tenants.findTenant(tenantId);
    if (!tenant) throw AtpError.notFound('tenant_not_found', `No tenant with id "${tenantId}"`);
    return tenant;
  }

  /** Every tenant (platform admins only: the caller checks the scope). */
  listTenants(): Promise<TenantRecord[]> {
    return this.tenants.listTenants();
  }

  async getLimits(tenantId: string): Promise<Limits> {
    const limits = await this.tenants.findLimits(tenantId);
    if (!limits)
      throw AtpError.notFound('tenant_not_found', 'The tenant of this credential no longer exists');
    return limits;
  }

  /** Replaces the tenant's limits (PUT semantics: a field left out no longer applies). */
  async replaceLimits(tenantId: string, limits: Limits): Promise<Limits> {
    const normalized = normalizeLimits(limits);
    if (!(await this.tenants.replaceLimits(tenantId, normalized))) {
      throw AtpError.notFound('tenant_not_found', 'The tenant of this credential no longer exists');
    }
    return normalized;
  }
}
