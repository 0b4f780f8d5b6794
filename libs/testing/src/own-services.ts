import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import Redis from 'ioredis';
import { freePort } from './processes';

/**
 * Throwaway PostgreSQL and Redis servers of a test's own, on their own loopback ports, so a
 * fault test can stop, freeze and kill them without touching the shared servers other tests
 * use. Each lives in a temp directory removed by `destroy()`.
 */

const PG_BIN = (() => {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(root, versions[0], 'bin') : null;
})();

export const canRunOwnPostgres = PG_BIN !== null && existsSync(join(PG_BIN, 'initdb'));
export const canRunOwnRedis = (() => {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** PostgreSQL refuses to run as root: the server runs as the `postgres` user when we are root. */
function pgUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

async function until(what: string, ok: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not come up within ${timeoutMs} ms`);
}

function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => child.once('exit', () => r()));
}

export class OwnPostgres {
  private child: ChildProcess | null = null;
  private readonly dir: string;
  private readonly user = pgUser();
  port = 0;

  private constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'atp-own-pg-'));
  }

  /** initdb + start; the database `atp` exists (user postgres, trust auth, loopback only). */
  static async start(): Promise<OwnPostgres> {
    const pg = new OwnPostgres();
    if (pg.user) chownSync(pg.dir, pg.user.uid, pg.user.gid);
    execFileSync(
      join(PG_BIN!, 'initdb'),
      ['-D', join(pg.dir, 'data'), '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8'],
      { stdio: 'ignore', ...pg.user },
    );
    pg.port = await freePort();
    await pg.resume();
    const admin = new Client({ host: '127.0.0.1', port: pg.port, user: 'postgres', database: 'postgres' });
    admin.on('error', () => undefined);
    await admin.connect();
    await admin.query('CREATE DATABASE atp');
    await admin.end();
    return pg;
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/atp`;
  }

  /** Creates another database (e.g. one per service) and returns its URL. */
  async createDatabase(name: string): Promise<string> {
    const admin = new Client({ host: '127.0.0.1', port: this.port, user: 'postgres', database: 'postgres' });
    admin.on('error', () => undefined);
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${name}`);
    } finally {
      await admin.end();
    }
    return `postgres://postgres@127.0.0.1:${this.port}/${name}`;
  }

  /** (Re)starts the server on the same port and data directory; resolves once it accepts queries. */
  async resume(): Promise<void> {
    this.child = spawn(
      join(PG_BIN!, 'postgres'),
      [
        '-D',
        join(this.dir, 'data'),
        '-p',
        String(this.port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        `unix_socket_directories=${this.dir}`,
        '-c',
        'fsync=off',
        '-c',
        'max_connections=100',
      ],
      { stdio: 'ignore', ...this.user },
    );
    await until('own PostgreSQL', () => this.answers(), 20_000);
  }

  private async answers(): Promise<boolean> {
    const c = new Client({ host: '127.0.0.1', port: this.port, user: 'postgres', database: 'postgres' });
    c.on('error', () => undefined);
    try {
      await c.connect();
      await c.query('SELECT 1');
      return true;
    } catch {
      return false;
    } finally {
      await c.end().catch(() => undefined);
    }
  }

  /**
   * Stops the server. `fast` (SIGINT) terminates sessions with 57P01; `immediate` (SIGQUIT)
   * drops them ("Connection terminated unexpectedly"); `kill` is SIGKILL of the postmaster.
   */
  async stop(mode: 'fast' | 'immediate' | 'kill' = 'fast'): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = null;
    child.kill(mode === 'fast' ? 'SIGINT' : mode === 'immediate' ? 'SIGQUIT' : 'SIGKILL');
    await exitOf(child);
    if (mode === 'kill') {
      // The postmaster's children outlive a SIGKILL of it for a moment and hold the port.
      await new Promise((r) => setTimeout(r, 500));
      rmSync(join(this.dir, 'data', 'postmaster.pid'), { force: true });
    }
  }

  async destroy(): Promise<void> {
    await this.stop('immediate');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export class OwnRedis {
  private child: ChildProcess | null = null;
  private readonly dir: string;
  port = 0;

  private constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'atp-own-redis-'));
  }

  static async start(): Promise<OwnRedis> {
    const r = new OwnRedis();
    r.port = await freePort();
    await r.resume();
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** (Re)starts an empty server on the same port. */
  async resume(): Promise<void> {
    this.child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        this.dir,
      ],
      { stdio: 'ignore' },
    );
    await until('own Redis', () => this.answers(), 10_000);
  }

  private async answers(): Promise<boolean> {
    const c = new Redis(this.url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    c.on('error', () => undefined);
    try {
      await c.connect();
      return (await c.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      c.disconnect();
    }
  }

  /** SIGKILL: every connection is reset and new ones are refused until {@link resume}. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = null;
    child.kill('SIGKILL');
    await exitOf(child);
  }

  /** SIGSTOP: connections stay open but nothing answers (a hung server). */
  freeze(): void {
    this.child?.kill('SIGSTOP');
  }

  thaw(): void {
    this.child?.kill('SIGCONT');
  }

  async destroy(): Promise<void> {
    this.thaw();
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
