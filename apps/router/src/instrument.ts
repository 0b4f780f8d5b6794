// Imported first by main.ts: OpenTelemetry must patch http before anything else loads it.
import { loadDotEnv, readTracingEnv } from '@app/config';
import { startTracing } from '@app/observability';

loadDotEnv();
export const tracing = startTracing('atp-router', readTracingEnv().endpoint);
