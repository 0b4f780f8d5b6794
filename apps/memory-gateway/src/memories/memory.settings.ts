import type { AppConfig } from '@app/config';

/**
 * Limits of the memory API, from the gateway's env (MEMORY_* in libs/config). One instance per
 * app: tests may lower the quotas after boot.
 */
export class MemorySettings {
  static fromConfig(config: AppConfig): MemorySettings {
    const env = (config as AppConfig<'memory-gateway'>).env;
    const s = new MemorySettings();
    if (env.MEMORY_QUOTA_BYTES !== undefined) s.quotaBytes = env.MEMORY_QUOTA_BYTES;
    if (env.MEMORY_QUOTA_RECORDS !== undefined) s.quotaRecords = env.MEMORY_QUOTA_RECORDS;
    if (env.MEMORY_MAX_VALUE_BYTES !== undefined) s.maxValueBytes = env.MEMORY_MAX_VALUE_BYTES;
    if (env.MEMORY_CACHE_TTL_SECONDS !== undefined) s.cacheTtlMs = env.MEMORY_CACHE_TTL_SECONDS * 1000;
    if (env.MEMORY_SWEEP_INTERVAL_SECONDS !== undefined)
      s.sweepIntervalMs = env.MEMORY_SWEEP_INTERVAL_SECONDS * 1000;
    return s;
  }

  /** MEMORY_QUOTA_BYTES: stored bytes (values + metadata) per tenant. */
  quotaBytes = 100 * 1024 * 1024;
  /** MEMORY_QUOTA_RECORDS: records per tenant. */
  quotaRecords = 100_000;
  /** MEMORY_MAX_VALUE_BYTES: largest value, as UTF-8 JSON (413 above it). */
  maxValueBytes = 1024 * 1024;
  /** Largest metadata object, as UTF-8 JSON. */
  maxMetadataBytes = 16 * 1024;
  maxTags = 32;
  maxTagLength = 128;
  /** Longest TTL: ten years. */
  maxTtlSeconds = 10 * 365 * 24 * 3600;
  /** MEMORY_CACHE_TTL_SECONDS: how long a record's ciphertext stays in the read-through cache. */
  cacheTtlMs = 300_000;
  /** MEMORY_SWEEP_INTERVAL_SECONDS: how often expired records are deleted. */
  sweepIntervalMs = 30_000;
  sweepBatch = 500;
  /** How long a tenant's PII mode (from its limits) is cached in-process. */
  tenantModeCacheMs = 10_000;
}
