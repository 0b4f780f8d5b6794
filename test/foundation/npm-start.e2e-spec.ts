import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, REPO_ROOT, waitForStatus } from '@app/testing';

const promtool = spawnSync('promtool', ['--version']).status === 0;
const requireTools = process.env.ATP_REQUIRE_SERVICES === '1';

/**
 * What `npm start` does after building: both services from dist/ on the embedded defaults, in one
 * process group, stopped by Ctrl-C (SIGINT to the whole group, as a terminal sends it).
 */
describe('npm start (scripts/start.mjs) on embedded defaults', () => {
  let dir: string;
  let pid = 0;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'atp-start-'));
  });
  afterAll(() => {
    try {
      if (pid) process.kill(-pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('brings both services up within 60 s, serves valid metrics, and Ctrl-C stops both with exit 0', async () => {
    const [routerPort, gatewayPort] = [await freePort(), await freePort()];
    const child = spawn(process.execPath, [join(REPO_ROOT, 'scripts', 'start.mjs')], {
      cwd: REPO_ROOT,
      detached: true,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        ATP_DATA_DIR: dir,
        ATP_ROUTER_PORT: String(routerPort),
        ATP_GATEWAY_PORT: String(gatewayPort),
        LOG_LEVEL: 'WARNING',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    pid = child.pid!;
    const out: string[] = [];
    child.stdout!.on('data', (d: Buffer) => out.push(d.toString()));
    child.stderr!.on('data', (d: Buffer) => out.push(d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));

    const started = Date.now();
    for (const port of [routerPort, gatewayPort]) {
      expect(await waitForStatus(`http://127.0.0.1:${port}/health`, (s) => s === 200, 60_000)).toBe(200);
      expect(await waitForStatus(`http://127.0.0.1:${port}/ready`, (s) => s === 200, 10_000)).toBe(200);
      const docs = await fetch(`http://127.0.0.1:${port}/docs`);
      expect(docs.status).toBe(200);
      expect(await docs.text()).toContain('swagger-ui');
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toContain('http_server_requests_seconds');
      if (promtool) {
        const check = spawnSync('promtool', ['check', 'metrics'], { input: metrics });
        expect({ status: check.status, out: check.stdout.toString() + check.stderr.toString() }).toEqual({
          status: 0,
          out: '',
        });
      } else if (requireTools) {
        throw new Error('promtool (Debian package prometheus) is required with ATP_REQUIRE_SERVICES=1');
      }
    }
    expect(Date.now() - started).toBeLessThan(60_000);
    await waitForBanner(out);
    // dist/ is fresh (the test setup built it with the same staleness check): nothing is rebuilt.
    expect(out.join('')).not.toMatch(/^building /m);
    expect(out.join('')).toContain(`http://localhost:${routerPort}`);
    expect(out.join('')).toContain(`http://localhost:${gatewayPort}`);
    expect(out.join('')).toContain(`http://localhost:${routerPort}/console`);
    // The bundled router finds the console that npm run build put beside it.
    const consolePage = await fetch(`http://127.0.0.1:${routerPort}/console`);
    expect(consolePage.status).toBe(200);
    expect(await consolePage.text()).toContain('/console/assets/app.');

    const stopAt = Date.now();
    process.kill(-pid, 'SIGINT');
    const code = await exited;
    expect(code).toBe(0);
    expect(Date.now() - stopAt).toBeLessThan(10_000);
    // Both services are gone: nothing answers any more.
    for (const port of [routerPort, gatewayPort]) {
      await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
    }
    pid = 0;
  }, 90_000);
});

async function waitForBanner(out: string[]): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!out.join('').includes('ATP is running') && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 100));
}
