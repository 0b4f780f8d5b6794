/**
 * OpenTelemetry, off unless OTEL_EXPORTER_OTLP_ENDPOINT is set. Started before Nest is
 * imported so the http instrumentation can patch the modules it needs.
 */
export interface TracingHandle {
  shutdown(): Promise<void>;
}

export function startTracing(service: string, endpoint: string | undefined): TracingHandle | null {
  if (!endpoint) return null;
  // Loaded only when enabled: the SDK costs start-up time and memory otherwise.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { NodeSDK } = require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const { OTLPTraceExporter } =
    require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  const { HttpInstrumentation } =
    require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const url = endpoint.replace(/\/+$/, '') + (endpoint.endsWith('/v1/traces') ? '' : '/v1/traces');
  const sdk = new NodeSDK({
    serviceName: service,
    traceExporter: new OTLPTraceExporter({ url }),
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) =>
          ['/health', '/ready', '/metrics'].includes((req.url ?? '').split('?')[0]),
      }),
    ],
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}
