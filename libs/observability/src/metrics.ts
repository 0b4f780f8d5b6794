import { Counter, Gauge, Histogram, register, type Registry } from 'prom-client';

/**
 * Get-or-create, so that several app instances in one process (tests, two-replica tests)
 * share one metric instead of failing on "already registered".
 */
export function histogram<T extends string>(
  config: ConstructorParameters<typeof Histogram<T>>[0],
  registry: Registry = register,
): Histogram<T> {
  return (
    (registry.getSingleMetric(config.name) as Histogram<T>) ??
    new Histogram<T>({ ...config, registers: [registry] })
  );
}

export function counter<T extends string>(
  config: ConstructorParameters<typeof Counter<T>>[0],
  registry: Registry = register,
): Counter<T> {
  return (
    (registry.getSingleMetric(config.name) as Counter<T>) ??
    new Counter<T>({ ...config, registers: [registry] })
  );
}

export function gauge<T extends string>(
  config: ConstructorParameters<typeof Gauge<T>>[0],
  registry: Registry = register,
): Gauge<T> {
  return (
    (registry.getSingleMetric(config.name) as Gauge<T>) ?? new Gauge<T>({ ...config, registers: [registry] })
  );
}

export function httpRequestHistogram(): Histogram<'method' | 'route' | 'status'> {
  return histogram({
    name: 'http_server_requests_seconds',
    help: 'HTTP requests served, by method, route template and status code',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
  });
}

/**
 * A memo of a metric's labelled children, by label values in `labelNames` order. prom-client
 * hashes the label object on every `inc({...})`/`observe({...})`; a child keeps its hash. Only
 * for bounded label values (route templates, catalog ids, outcome codes).
 */
export function labelled<C>(metric: { labels(...values: string[]): C }): (...values: string[]) => C {
  const children = new Map<string, C>();
  return (...values: string[]): C => {
    const key = values.length === 1 ? values[0] : values.join('\u0000');
    let child = children.get(key);
    if (!child) {
      child = metric.labels(...values);
      children.set(key, child);
    }
    return child;
  };
}
