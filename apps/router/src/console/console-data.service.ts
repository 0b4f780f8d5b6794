import { Inject, Injectable } from '@nestjs/common';
import { type Caller, ApiKeyService, type Limits } from '@app/auth';
import { AtpError } from '@app/common';
import { ProviderRegistry } from '@app/providers';
import { apiKeyToDto } from '../admin/dto/api-key.dto';
import { limitsToDto } from '../admin/dto/limits.dto';
import type { Catalog } from '../routing/resolve-model';
import { RoutingService } from '../routing/routing.service';
import { CATALOG } from '../routing/routing.tokens';
import { RoutingStatsStore } from '../routing/routing-stats.store';
import { UsageRecorder } from '../usage/usage-recorder';
import { ConsoleOverviewService } from './console-overview.service';
import { ConsoleStatsRepository, type UsageCursor, type UsageFilters } from './console-stats.repository';

const MAX_PAGE = 200;

function encodeCursor(c: UsageCursor): string {
  return Buffer.from(JSON.stringify([c.at, c.id])).toString('base64url');
}

function decodeCursor(raw: string): UsageCursor {
  try {
    const [at, id] = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as unknown[];
    if (typeof at === 'string' && typeof id === 'string' && at.length < 40 && id.length <= 36)
      return { at, id };
  } catch {
    // fall through
  }
  throw AtpError.badRequest('invalid_cursor', 'The cursor is not one this log returned', 'cursor');
}

/** Keys, the Requests log and Providers & routing, for the console. */
@Injectable()
export class ConsoleDataService {
  constructor(
    private readonly stats: ConsoleStatsRepository,
    private readonly overview: ConsoleOverviewService,
    private readonly keys: ApiKeyService,
    private readonly recorder: UsageRecorder,
    private readonly routing: RoutingService,
    private readonly routingStats: RoutingStatsStore,
    private readonly registry: ProviderRegistry,
    @Inject(CATALOG) private readonly catalog: Catalog,
  ) {}

  /** The tenant's keys with this month's spend each. */
  async listKeys(tenantId: string) {
    const [keys, spend] = await Promise.all([
      this.keys.listKeys(tenantId),
      this.overview.monthSpendByKey(tenantId),
    ]);
    return {
      object: 'list',
      data: keys.map((k) => ({ ...apiKeyToDto(k), month_spend_usd: spend.get(k.id) ?? 0 })),
    };
  }

  async updateKeyLimits(tenantId: string, keyId: string, limits: Limits | null, actor: Caller) {
    const stored = await this.keys.updateKeyLimits({ tenantId, keyId, limits, actor });
    return { id: keyId, limits: stored ? limitsToDto(stored) : null };
  }

  /** A page of usage rows, newest first (keyset: stable while new rows arrive). */
  async requests(tenantId: string, filters: UsageFilters, cursorRaw: string | undefined, limitRaw: unknown) {
    const limit = limitRaw === undefined || limitRaw === '' ? 50 : Number(limitRaw);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE)
      throw AtpError.badRequest(
        'invalid_request',
        `'limit' must be an integer from 1 to ${MAX_PAGE}`,
        'limit',
      );
    const cursor = cursorRaw ? decodeCursor(cursorRaw) : null;
    await this.recorder.flush();
    const rows = await this.stats.usagePage(tenantId, filters, cursor, limit);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      object: 'list',
      data: page.map((r) => r.row),
      next_cursor: rows.length > limit && last ? encodeCursor({ at: last.at, id: last.row.id }) : null,
    };
  }

  /** Configured providers, the catalog with prices, routes, and live circuit state and learned stats. */
  async providers() {
    const configured = new Set(this.registry.ids());
    const models = [...this.catalog.models.values()];
    const live = await Promise.all(
      models.map(async (m) => {
        if (!configured.has(m.provider)) return null;
        const [open, s] = await Promise.all([
          this.routing.breaker.isOpenNow(m.provider, m.upstream).catch(() => null),
          this.routingStats.getFresh(m.provider, m.upstream),
        ]);
        return { circuit: open === null ? 'unknown' : open ? 'open' : 'closed', stats: s };
      }),
    );
    return {
      object: 'console.providers',
      providers: [...configured]
        .sort()
        .map((id) => ({ id, models: models.filter((m) => m.provider === id).length })),
      models: models.map((m, i) => ({
        id: m.id,
        provider: m.provider,
        upstream: m.upstream,
        kind: m.kind,
        configured: configured.has(m.provider),
        input_per_1m_usd: m.inputPer1M,
        output_per_1m_usd: m.outputPer1M,
        context_window: m.contextWindow,
        quality: m.quality,
        circuit: live[i]?.circuit ?? null,
        successes: live[i]?.stats.successes ?? null,
        failures: live[i]?.stats.failures ?? null,
        latency_ewma_ms: live[i] ? Math.round(live[i].stats.latencyEwmaMs) : null,
      })),
      routes: [...this.catalog.routes.values()].map((r) => ({
        name: r.name,
        strategy: r.strategy,
        cache: Boolean(r.cache),
        quality_floor: r.qualityFloor ?? null,
        candidates: r.candidates.map((c) => ({
          model: c.model,
          weight: c.weight ?? null,
          configured: configured.has(this.catalog.models.get(c.model)?.provider ?? ''),
        })),
      })),
      mock_only: configured.size === 1 && configured.has('mock'),
    };
  }
}
