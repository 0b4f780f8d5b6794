import { Inject, Injectable } from '@nestjs/common';
import { KV_STORE, type KvStore } from '@app/cache';
import { AtpError } from '@app/common';
import { APP_CONFIG, type AppConfig } from '@app/config';
import type { ChatRequest, ChatResponse } from '@app/providers';
import {
  cacheKey,
  type CacheDirective,
  type CacheResult,
  parseDirective,
  ResponseCache,
} from '../cache/response-cache';
import type { CallOptions } from './call';
import { metricChildren as mc } from './pipeline.metrics';

const MAX_CACHE_TTL_SECONDS = 30 * 86_400;

/** What the cache does for one call: its key (null: caching does not apply) and what it did. */
export interface CachePlan {
  key: string | null;
  directive: CacheDirective;
  ttlSeconds: number;
  result: CacheResult;
}

/**
 * Stage 4, cache: an exact-match answer cache per tenant, keyed by the canonical request (so a
 * request through any door can be answered from it). It applies to routes configured with
 * `cache: true` and to requests that send `x-atp-cache-ttl: <seconds>`; `x-atp-cache: bypass`
 * skips it, `refresh` asks the provider again and stores the new answer.
 */
@Injectable()
export class CacheStage {
  private readonly cache: ResponseCache;
  private readonly defaultTtl: number;

  constructor(@Inject(APP_CONFIG) config: AppConfig<'router'>, @Inject(KV_STORE) kv: KvStore) {
    this.cache = new ResponseCache(kv);
    this.defaultTtl = config.env.ATP_CACHE_TTL_SECONDS;
  }

  /** @throws AtpError 400 for an x-atp-cache-ttl outside 1..30 days */
  plan(tenantId: string, route: string, routeCaches: boolean, body: ChatRequest, o: CallOptions): CachePlan {
    const directive = parseDirective(o.cacheDirective);
    let ttlSeconds = this.defaultTtl;
    if (o.cacheTtl !== undefined) {
      const n = Number(o.cacheTtl);
      if (!Number.isInteger(n) || n < 1 || n > MAX_CACHE_TTL_SECONDS) {
        throw AtpError.badRequest(
          'invalid_request',
          `x-atp-cache-ttl must be 1..${MAX_CACHE_TTL_SECONDS} seconds`,
        );
      }
      ttlSeconds = n;
    }
    const enabled = (routeCaches || o.cacheTtl !== undefined) && directive !== 'bypass';
    return {
      key: enabled ? cacheKey(tenantId, route, body) : null,
      directive,
      ttlSeconds,
      result: enabled ? 'miss' : 'bypass',
    };
  }

  /** The stored answer, when the plan allows using one (a cache outage is a miss). */
  async lookup(plan: CachePlan): Promise<ChatResponse | null> {
    if (!plan.key) {
      mc.cache('bypass').inc();
      return null;
    }
    if (plan.directive !== 'use') return null;
    const hit = await this.cache.get(plan.key);
    mc.cache(hit ? 'hit' : 'miss').inc();
    if (hit) plan.result = 'hit';
    return hit;
  }

  /** Keeps a complete answer for later calls (off the request path; never fails the call). */
  store(plan: CachePlan, response: ChatResponse): void {
    if (plan.key) void this.cache.set(plan.key, response, plan.ttlSeconds);
  }
}
