import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  freePort,
  REPO_ROOT,
  type RunningProcess,
  startProcess,
  stopProcess,
  waitForStatus,
} from '@app/testing';

/** OpenTelemetry is off by default and exports OTLP/HTTP traces when OTEL_EXPORTER_OTLP_ENDPOINT is set. */
describe('OpenTelemetry export', () => {
  let collector: Server;
  let received: { url: string; bytes: number }[] = [];
  let collectorUrl: string;
  let dir: string;
  let proc: RunningProcess | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'atp-otel-'));
    collector = createServer((req, res) => {
      let bytes = 0;
      req.on('data', (d: Buffer) => (bytes += d.length));
      req.on('end', () => {
        received.push({ url: req.url ?? '', bytes });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
    collectorUrl = `http://127.0.0.1:${(collector.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await stopProcess(proc);
    await new Promise<void>((r) => collector.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends spans of served requests to the collector (flushed at shutdown)', async () => {
    received = [];
    const port = await freePort();
    proc = startProcess([join(REPO_ROOT, 'dist', 'apps', 'router', 'main.js')], {
      PORT: String(port),
      ATP_DATA_DIR: dir,
      LOG_LEVEL: 'WARNING',
      OTEL_EXPORTER_OTLP_ENDPOINT: collectorUrl,
    });
    expect(await waitForStatus(`http://127.0.0.1:${port}/health`, (s) => s === 200, 30_000)).toBe(200);
    await fetch(`http://127.0.0.1:${port}/v1/models`); // a traced request (401, still a span)
    proc.child.kill('SIGTERM');
    expect((await proc.exited).code).toBe(0);
    const traces = received.filter((r) => r.url === '/v1/traces');
    expect(traces.length).toBeGreaterThan(0);
    expect(traces[0].bytes).toBeGreaterThan(0);
  });
});
