import { randomUUID } from 'node:crypto';
import { readDevCredentials } from '../auth-helpers';
import {
  type FuzzReport,
  fuzzService,
  type FuzzTarget,
  FUZZ_REQUESTS,
  FUZZ_SEED,
  type OpenApi,
} from './openapi-fuzz';
import {
  createTestEnv,
  freePort,
  type RunningProcess,
  startProcess,
  stopProcess,
  type TestEnv,
  waitForStatus,
} from '@app/testing';

export interface FuzzSuite {
  service: 'router' | 'memory-gateway';
  pathValues: FuzzTarget['pathValues'];
  bodyExamples: FuzzTarget['bodyExamples'];
  /** A valid request that must still work after the fuzz. */
  afterwards(url: string, key: string): Promise<void>;
}

/**
 * Fuzzes one service as deployed (the built dist/ in its own process, so /health latency is the
 * service's, not the fuzzer's), then checks the process is still healthy and logged no error.
 */
export function describeFuzz(suite: FuzzSuite): void {
  describe(`${suite.service}: property-based fuzz of every OpenAPI route (seed ${FUZZ_SEED}, ${FUZZ_REQUESTS} requests)`, () => {
    let testEnv: TestEnv;
    let proc: RunningProcess;
    let url: string;

    beforeAll(async () => {
      testEnv = await createTestEnv({ LOG_LEVEL: 'WARNING' });
      const port = await freePort();
      url = `http://127.0.0.1:${port}`;
      proc = startProcess([`dist/apps/${suite.service}/main.js`], { ...testEnv.env, PORT: String(port) });
      const status = await waitForStatus(`${url}/ready`, (s) => s === 200, 40_000);
      if (status !== 200) throw new Error(`${suite.service} did not become ready: ${proc.stderr.join('')}`);
    }, 60_000);
    afterAll(async () => {
      await stopProcess(proc);
      await testEnv?.cleanup();
    });

    it('no 5xx, no answer over 2 s, every failure in the envelope, /health fast throughout, healthy after', async () => {
      const key = readDevCredentials(testEnv.dataDir).api_key;
      const spec = (await (await fetch(`${url}/openapi.json`)).json()) as OpenApi;
      let report: FuzzReport;
      try {
        report = await fuzzService({
          baseUrl: url,
          validKey: key,
          spec,
          pathValues: suite.pathValues,
          bodyExamples: suite.bodyExamples,
        });
      } catch (err) {
        throw new Error(
          `${(err as Error).message}\n--- service stderr ---\n${proc.stderr.join('').slice(-4000)}`,
        );
      }
      // eslint-disable-next-line no-console
      console.log(
        `fuzz ${suite.service}: ${report.requests} requests, statuses ${JSON.stringify(report.byStatus)}, ` +
          `slowest ${Math.round(report.slowestMs)} ms; /health ${report.health.samples} samples, ` +
          `p50 ${report.health.p50.toFixed(1)} ms, p99 ${report.health.p99.toFixed(1)} ms, max ${report.health.max.toFixed(1)} ms`,
      );
      expect(report.requests).toBeGreaterThanOrEqual(Math.min(FUZZ_REQUESTS, 1000));
      expect(report.health.failures).toEqual([]);
      expect(report.health.samples).toBeGreaterThan(10);
      // Bounds with margin for a loaded 2-core CI machine; a handler that blocks the loop for
      // seconds (or crashes the process) breaks them.
      expect(report.health.p99).toBeLessThan(500);
      expect(report.health.max).toBeLessThan(MAX_HEALTH_MS);

      expect(proc.child.exitCode).toBeNull();
      expect((await fetch(`${url}/health`)).status).toBe(200);
      expect((await fetch(`${url}/ready`)).status).toBe(200);
      await suite.afterwards(url, key);
      // An unexpected error (what becomes a 500) is logged at ERROR; none may have happened.
      const errors = proc.stdout
        .join('')
        .split('\n')
        .filter((l) => l.includes('"severity":"ERROR"'));
      expect(errors).toEqual([]);
    }, 240_000);
  });
}

const MAX_HEALTH_MS = 1500;

export const someUuid = randomUUID();
