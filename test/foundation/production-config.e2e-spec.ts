import { join } from 'node:path';
import { REPO_ROOT, startProcess } from '@app/testing';

const main = (app: string) => join(REPO_ROOT, 'dist', 'apps', app, 'main.js');

async function runToExit(app: string, env: Record<string, string>) {
  const p = startProcess([main(app)], env);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 15_000);
  const result = await p.exited;
  clearTimeout(timer);
  return { ...result, stdout: p.stdout.join(''), stderr: p.stderr.join('') };
}

describe('NODE_ENV=production refuses an incomplete environment', () => {
  it('router with nothing set: one error line naming every missing variable, exit 1', async () => {
    const r = await runToExit('router', { NODE_ENV: 'production' });
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]) as { severity: string; message: string };
    expect(entry.severity).toBe('ERROR');
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'JWT_SECRET_KEY', 'OPENAI_API_KEY']) {
      expect(entry.message).toContain(name);
    }
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('memory gateway with nothing set also names ENCRYPTION_KEY', async () => {
    const r = await runToExit('memory-gateway', { NODE_ENV: 'production' });
    expect(r.code).toBe(1);
    const { message } = JSON.parse(r.stderr.trim()) as { message: string };
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'JWT_SECRET_KEY', 'ENCRYPTION_KEY'])
      expect(message).toContain(name);
  });

  it('malformed values are named too, with what is wrong', async () => {
    const r = await runToExit('router', {
      NODE_ENV: 'production',
      DATABASE_URL: 'mysql://x',
      REDIS_URL: 'redis://127.0.0.1:1',
      JWT_SECRET_KEY: 'short',
      LOG_LEVEL: 'LOUD',
      PORT: 'eighty',
      OPENAI_API_KEY: 'sk-test',
    });
    expect(r.code).toBe(1);
    const { message } = JSON.parse(r.stderr.trim()) as { message: string };
    expect(message).toMatch(/DATABASE_URL must be a PostgreSQL URL/);
    expect(message).toMatch(/LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR/);
    expect(message).toMatch(/PORT/);
    expect(message).not.toContain('sk-test');
  });

  it('a weak JWT secret is refused in production even when everything else is there', async () => {
    const r = await runToExit('router', {
      NODE_ENV: 'production',
      ATP_ALLOW_EMBEDDED: 'true',
      JWT_SECRET_KEY: 'too-short-secret',
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('JWT_SECRET_KEY must be at least 32 bytes');
    expect(r.stderr).not.toContain('too-short-secret');
  });
});
