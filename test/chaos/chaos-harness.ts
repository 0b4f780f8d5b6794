import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort } from '@app/testing';

/**
 * The fault suite's own dependencies: a PostgreSQL cluster and a redis-server on free loopback
 * ports, so the suite can stop, freeze and kill them without touching the shared servers.
 */

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function pgBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) if (existsSync(join(root, v, 'bin', 'postgres'))) return join(root, v, 'bin');
  throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql/*/bin');
}

/** Whether this machine can run the suite (PostgreSQL server binaries and redis-server). */
export function chaosToolsAvailable(): boolean {
  try {
    pgBin();
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** PostgreSQL refuses to run as root: as root, run its binaries as the `postgres` OS user. */
function asPostgres(cmd: string, args: string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [cmd, args];
  return ['runuser', ['-u', 'postgres', '--', cmd, ...args]];
}

export class OwnPostgres {
  readonly dir = mkdtempSync(join(tmpdir(), 'atp-chaos-pg-'));
  port = 0;
  private proc: ChildProcess | null = null;
  private readonly bin = pgBin();

  async init(): Promise<void> {
    if (process.getuid?.() === 0) {
      const pgUid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
      const pgGid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
      chownSync(this.dir, pgUid, pgGid);
      chmodSync(this.dir, 0o700);
    }
    const [cmd, args] = asPostgres(join(this.bin, 'initdb'), [
      '-D',
      join(this.dir, 'data'),
      '-U',
      'postgres',
      '-A',
      'trust',
      '--no-sync',
    ]);
    execFileSync(cmd, args, { stdio: 'ignore' });
    this.port = await freePort();
    await this.start();
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  async start(): Promise<void> {
    const [cmd, args] = asPostgres(join(this.bin, 'postgres'), [
      '-D',
      join(this.dir, 'data'),
      '-p',
      String(this.port),
      '-k',
      this.dir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
      '-c',
      'max_connections=60',
      '-c',
      'shared_buffers=32MB',
    ]);
    this.proc = spawn(cmd, args, { stdio: 'ignore' });
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        const c = new Client({ connectionString: this.url });
        await c.connect();
        await c.end();
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await sleep(100);
      }
    }
  }

  /** `pg_ctl stop -m fast` (sessions get 57P01) or `-m immediate` (connections just drop). */
  stop(mode: 'fast' | 'immediate'): void {
    const [cmd, args] = asPostgres(join(this.bin, 'pg_ctl'), [
      '-D',
      join(this.dir, 'data'),
      '-m',
      mode,
      '-w',
      'stop',
    ]);
    execFileSync(cmd, args, { stdio: 'ignore' });
    this.proc = null;
  }

  /** Runs one statement on `database` (default: the maintenance database). */
  async query<T = Record<string, unknown>>(
    sql: string,
    params: unknown[] = [],
    database = 'postgres',
  ): Promise<T[]> {
    const c = new Client({ connectionString: this.url.replace(/\/postgres$/, `/${database}`) });
    await c.connect();
    try {
      return (await c.query(sql, params)).rows as T[];
    } finally {
      await c.end();
    }
  }

  cleanup(): void {
    try {
      if (this.proc) this.stop('immediate');
    } catch {
      this.proc?.kill('SIGKILL');
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export class OwnRedis {
  port = 0;
  proc: ChildProcess | null = null;

  async start(): Promise<void> {
    this.port ||= await freePort();
    this.proc = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    const { connect } = await import('node:net');
    const deadline = Date.now() + 10_000;
    for (;;) {
      const ok = await new Promise<boolean>((resolve) => {
        const s = connect(this.port, '127.0.0.1');
        s.once('connect', () => {
          s.end();
          resolve(true);
        });
        s.once('error', () => resolve(false));
      });
      if (ok) return;
      if (Date.now() > deadline) throw new Error('redis-server did not start');
      await sleep(50);
    }
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  signal(sig: NodeJS.Signals): void {
    this.proc?.kill(sig);
  }

  async kill(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
    this.proc = null;
  }
}

export type UpstreamFault = 'none' | 'error500' | 'reset' | 'cut';

/**
 * An OpenAI-compatible upstream the suite controls: quick JSON answers and streams; a prompt
 * `slow:<ms>` streams one chunk every 100 ms for that long; `faults` makes a share of calls answer
 * 500, reset the connection, or cut a stream after a few chunks.
 */
export class ChaosUpstream {
  private server: Server | null = null;
  port = 0;
  faults: { rate: number; kinds: UpstreamFault[] } = { rate: 0, kinds: [] };
  readonly counts = { calls: 0, error500: 0, reset: 0, cut: 0 };

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 65_000;
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}/v1`;
  }

  private pickFault(): UpstreamFault {
    if (!this.faults.rate || Math.random() >= this.faults.rate) return 'none';
    return this.faults.kinds[Math.floor(Math.random() * this.faults.kinds.length)] ?? 'none';
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      this.counts.calls++;
      let body: { model?: string; stream?: boolean; messages?: { content?: string }[] } = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
      } catch {
        /* answered anyway */
      }
      const prompt = String(body.messages?.[body.messages.length - 1]?.content ?? '');
      const slow = /slow:(\d+)/.exec(prompt);
      const fault = slow ? 'none' : this.pickFault();
      if (fault === 'error500') {
        this.counts.error500++;
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end('{"error":{"message":"upstream exploded","type":"server_error"}}');
        return;
      }
      if (fault === 'reset') {
        this.counts.reset++;
        req.socket.destroy();
        return;
      }
      const model = body.model ?? 'gpt-4o-mini';
      if (!body.stream) {
        if (fault === 'cut') {
          this.counts.cut++;
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write('{"id":"x","object":"chat.com');
          setTimeout(() => req.socket.destroy(), 5);
          return;
        }
        const payload = JSON.stringify({
          id: `chatcmpl-${randomUUID()}`,
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model,
          choices: [
            { index: 0, message: { role: 'assistant', content: 'chaos answer' }, finish_reason: 'stop' },
          ],
          usage: { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 },
        });
        res.writeHead(200, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
        });
        res.end(payload);
        return;
      }
      const id = `chatcmpl-${randomUUID()}`;
      const frame = (choices: unknown[], usage?: unknown) =>
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: 1, model, choices, ...(usage ? { usage } : {}) })}\n\n`;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write(frame([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]));
      if (slow) {
        const until = Date.now() + Number(slow[1]);
        const timer = setInterval(() => {
          if (res.destroyed) return clearInterval(timer);
          if (Date.now() >= until) {
            clearInterval(timer);
            res.write(frame([{ index: 0, delta: {}, finish_reason: 'stop' }]));
            res.end(
              frame([], { prompt_tokens: 9, completion_tokens: 99, total_tokens: 108 }) + 'data: [DONE]\n\n',
            );
            return;
          }
          res.write(frame([{ index: 0, delta: { content: 'tick tock ' }, finish_reason: null }]));
        }, 100);
        res.on('close', () => clearInterval(timer));
        return;
      }
      for (let i = 0; i < 8; i++)
        res.write(frame([{ index: 0, delta: { content: `word${i} ` }, finish_reason: null }]));
      if (fault === 'cut') {
        this.counts.cut++;
        setTimeout(() => req.socket.destroy(), 5);
        return;
      }
      res.write(frame([{ index: 0, delta: {}, finish_reason: 'stop' }]));
      res.end(frame([], { prompt_tokens: 9, completion_tokens: 8, total_tokens: 17 }) + 'data: [DONE]\n\n');
    });
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

/** An HS256 platform token (what `npm run atp -- token` mints). */
export function platformJwt(secret: string, tenantId: string, scope: string): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: 'chaos-jwt', tenant_id: tenantId, scope, iat: now, exp: now + 3600 })}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

/** Resident memory of a process in MB (Linux /proc). */
export function rssMb(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}
