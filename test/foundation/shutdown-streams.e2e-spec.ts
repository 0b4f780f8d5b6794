import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource, In } from 'typeorm';
import { AUDIT_ENTITIES, AuditEventEntity } from '@app/audit';
import { loadConfig } from '@app/config';
import { dataSourceOptions } from '@app/database';
import {
  createTestEnv,
  freePort,
  REPO_ROOT,
  type RunningProcess,
  SERVICES_LABEL,
  startProcess,
  stopProcess,
  type TestEnv,
  waitForStatus,
} from '@app/testing';
import { UsageRecordEntity } from '../../apps/router/src/usage/usage-record.entity';
import { ChaosUpstream } from '../chaos/chaos-harness';

const GRACE_S = 3;
const STREAMS = 6;

/**
 * Issue 16 defect 3: SIGTERM while streams that would outlive the grace are running. Before, the
 * router exited at grace + 1 s with code 0 and the streams died with ECONNRESET: no error event,
 * no usage row, no audit event. Now each ends with a retryable error event before the grace runs
 * out, is billed from what it relayed, and is recorded before exit.
 */
describe(`router SIGTERM with streams longer than the grace (built dist, ${SERVICES_LABEL})`, () => {
  const upstream = new ChaosUpstream();
  let testEnv: TestEnv;
  let proc: RunningProcess | undefined;

  beforeAll(async () => {
    await upstream.start();
    testEnv = await createTestEnv({
      OPENAI_API_KEY: 'sk-fake',
      OPENAI_BASE_URL: upstream.baseUrl,
      ATP_SHUTDOWN_GRACE_SECONDS: String(GRACE_S),
      NODE_ENV: 'development',
      LOG_LEVEL: 'WARNING',
    });
  });
  afterAll(async () => {
    await stopProcess(proc);
    await upstream.stop();
    await testEnv?.cleanup();
  });

  it('every stream gets server_shutting_down before exit 0; each has its usage row and audit event', async () => {
    const port = await freePort();
    proc = startProcess([join(REPO_ROOT, 'dist', 'apps', 'router', 'main.js')], {
      ...testEnv.env,
      PORT: String(port),
    });
    const base = `http://127.0.0.1:${port}`;
    expect(await waitForStatus(`${base}/ready`, (s) => s === 200, 60_000)).toBe(200);
    const { api_key: key } = JSON.parse(
      readFileSync(join(testEnv.dataDir, 'dev-credentials.json'), 'utf8'),
    ) as {
      api_key: string;
    };

    const ids = Array.from({ length: STREAMS }, (_, i) => `sigterm-${Date.now()}-${i}`);
    const streams = ids.map(async (id) => {
      const res = await fetch(`${base}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-request-id': id },
        body: JSON.stringify({
          model: 'gpt-4o-mini',
          stream: true,
          messages: [{ role: 'user', content: 'slow:12000' }],
        }),
      });
      let text = '';
      let failure = 'none';
      try {
        text = await res.text();
      } catch (err) {
        failure = String((err as Error).cause ?? (err as Error).message);
      }
      return { status: res.status, text, failure };
    });
    // Streams running (the first chunks relayed), then SIGTERM.
    await new Promise((r) => setTimeout(r, 1_000));
    const t0 = Date.now();
    proc.child.kill('SIGTERM');
    const results = await Promise.all(streams);
    const { code, signal } = await proc.exited;
    const exitMs = Date.now() - t0;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    // Drained and flushed, not the forced exit at grace + 1 s; and before Cloud Run's SIGKILL
    // (which comes 2 s after the default 8 s grace).
    expect(proc.stderr.join('')).not.toContain('did not finish');
    expect(exitMs).toBeLessThan((GRACE_S + 2) * 1000);
    for (const r of results) {
      expect(r.failure).toBe('none');
      expect(r.status).toBe(200);
      expect(r.text).not.toContain('[DONE]');
      const last = r.text.trim().split('\n\n').pop()!;
      expect(JSON.parse(last.slice('data: '.length))).toMatchObject({
        error: { type: 'service_unavailable', code: 'server_shutting_down' },
      });
    }

    const config = loadConfig('router', testEnv.env);
    const ds = await new DataSource(
      dataSourceOptions(config.database, [UsageRecordEntity, ...AUDIT_ENTITIES]),
    ).initialize();
    try {
      const rows = await ds.getRepository(UsageRecordEntity).findBy({ requestId: In(ids) });
      expect(rows).toHaveLength(STREAMS);
      for (const row of rows) {
        expect(row).toMatchObject({ status: 503, outcome: 'shutdown', estimated: true, stream: true });
        // Billed from the text relayed before the cut (~10 characters every 100 ms).
        expect(row.completionTokens).toBeGreaterThan(5);
      }
      const events = await ds
        .getRepository(AuditEventEntity)
        .countBy({ request_id: In(ids), action: 'chat.completion', status_code: 503 });
      expect(events).toBe(STREAMS);
    } finally {
      await ds.destroy();
    }
  }, 60_000);
});
