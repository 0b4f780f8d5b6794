import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * The only place that touches `process.env` (house style). Everything else receives a
 * validated config object.
 */
export function readProcessEnv(): Record<string, string | undefined> {
  return { ...process.env };
}

/**
 * Loads `.env` from the working directory (if present) into `process.env` without overriding
 * variables that are already set. Never in production: there the platform injects env vars.
 */
export function loadDotEnv(cwd = process.cwd()): void {
  if (process.env.NODE_ENV === 'production' || process.env.NODE_ENV === 'test') return;
  const file = resolve(cwd, '.env');
  if (existsSync(file)) process.loadEnvFile(file);
}

/** OpenTelemetry has to start before Nest is imported, so main.ts asks for just these. */
export function readTracingEnv(): { endpoint?: string; resourceAttributes?: string } {
  return {
    endpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined,
    resourceAttributes: process.env.OTEL_RESOURCE_ATTRIBUTES || undefined,
  };
}
