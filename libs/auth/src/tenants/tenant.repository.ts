import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { isUuid } from '../ids';
import { type Limits, normalizeLimits } from '../limits';
import { TenantEntity } from './tenant.entity';

export interface TenantRecord {
  id: string;
  name: string;
  createdAt: Date;
}

/** The only code that touches the `tenants` table. Every read of a tenant's data takes its id. */
@Injectable()
export class TenantRepository {
  constructor(@InjectRepository(TenantEntity) private readonly repo: Repository<TenantEntity>) {}

  /** @throws the driver's unique violation when the name is taken (see isUniqueViolation) */
  async insertTenant(tenant: TenantRecord): Promise<void> {
    await this.repo.insert({ id: tenant.id, name: tenant.name, createdAt: tenant.createdAt, limits: null });
  }

  async findTenant(tenantId: string): Promise<TenantRecord | null> {
    if (!isUuid(tenantId)) return null;
    const row = await this.repo.findOne({
      where: { id: tenantId },
      select: { id: true, name: true, createdAt: true },
    });
    return row ? { id: row.id, name: row.name, createdAt: row.createdAt } : null;
  }

  async tenantExists(tenantId: string): Promise<boolean> {
    if (!isUuid(tenantId)) return false;
    return this.repo.exists({ where: { id: tenantId } });
  }

  /** Platform-level (platform admins' console): every tenant, by name. */
  async listTenants(): Promise<TenantRecord[]> {
    const rows = await this.repo.find({
      select: { id: true, name: true, createdAt: true },
      order: { name: 'ASC' },
    });
    return rows.map((r) => ({ id: r.id, name: r.name, createdAt: r.createdAt }));
  }

  /** Platform-level: is this a fresh database (development bootstrap)? Reads no tenant's data. */
  async anyTenantExists(): Promise<boolean> {
    return this.repo.exists({});
  }

  /** Compensation for a bootstrap that could not finish; only ever a tenant this process just created. */
  async deleteTenant(tenantId: string): Promise<void> {
    await this.repo.delete({ id: tenantId });
  }

  async findLimits(tenantId: string): Promise<Limits | null> {
    if (!isUuid(tenantId)) return null;
    const row = await this.repo.findOne({ where: { id: tenantId }, select: { id: true, limits: true } });
    return row ? normalizeLimits(row.limits) : null;
  }

  /** @returns false when the tenant does not exist */
  async replaceLimits(tenantId: string, limits: Limits): Promise<boolean> {
    if (!isUuid(tenantId)) return false;
    const res = await this.repo.update({ id: tenantId }, { limits });
    return (res.affected ?? 0) > 0;
  }
}
