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

describe.each(['router', 'memory-gateway'])('%s process lifecycle (built dist, embedded defaults)', (app) => {
  let dir: string;
  let proc: RunningProcess | undefined;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'atp-life-'));
  });
  afterAll(async () => {
    await stopProcess(proc);
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves /health and /ready, then exits 0 within 10 s of SIGTERM', async () => {
    const port = await freePort();
    proc = startProcess([join(REPO_ROOT, 'dist', 'apps', app, 'main.js')], {
      PORT: String(port),
      ATP_DATA_DIR: dir,
      LOG_LEVEL: 'WARNING',
    });
    const base = `http://127.0.0.1:${port}`;
    expect(await waitForStatus(`${base}/health`, (s) => s === 200, 30_000)).toBe(200);
    expect(await waitForStatus(`${base}/ready`, (s) => s === 200, 10_000)).toBe(200);

    const started = Date.now();
    proc.child.kill('SIGTERM');
    const { code, signal } = await proc.exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
