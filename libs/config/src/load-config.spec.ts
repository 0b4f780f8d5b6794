import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './load-config';
import { parseKeyRing } from './key-ring';

const KEY_A = Buffer.alloc(32, 1).toString('base64');
const KEY_B = Buffer.alloc(32, 2).toString('base64');

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'atp-cfg-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('development with nothing set: embedded SQLite, in-process cache, generated secrets (0600, reused)', () => {
    const c = loadConfig('memory-gateway', { ATP_DATA_DIR: dir });
    expect(c.production).toBe(false);
    expect(c.database).toEqual({ type: 'sqlite', path: join(dir, 'atp.sqlite'), synchronous: 'normal' });
    expect(c.redis).toBeNull();
    expect(c.env.PORT).toBe(8000);
    expect(c.embedded).toEqual(
      expect.arrayContaining(['sqlite', 'in-process cache', 'generated JWT secret']),
    );
    expect(c.jwtSecret.length).toBeGreaterThanOrEqual(32);
    expect(c.encryptionKeys).toHaveLength(1);
    const file = join(dir, 'dev-secrets.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = loadConfig('router', { ATP_DATA_DIR: dir });
    expect(again.jwtSecret).toBe(c.jwtSecret);
    // One generated key ring for both: the router's stored responses use the gateway's data keys.
    expect(again.encryptionKeys[0].key.equals(c.encryptionKeys[0].key)).toBe(true);
    expect(JSON.parse(readFileSync(file, 'utf8')).jwtSecret).toBe(c.jwtSecret);
  });

  it('production with nothing set names every missing variable at once', () => {
    const problems = problemsOf(() => loadConfig('memory-gateway', { NODE_ENV: 'production' }));
    expect(problems.join('\n')).toMatch(/DATABASE_URL/);
    expect(problems.join('\n')).toMatch(/REDIS_URL/);
    expect(problems.join('\n')).toMatch(/JWT_SECRET_KEY/);
    expect(problems.join('\n')).toMatch(/ENCRYPTION_KEY/);
    expect(problems).toHaveLength(4);
  });

  it('production router needs a provider credential unless embedded defaults are allowed', () => {
    const base = {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://u:p@db:5432/atp',
      REDIS_URL: 'redis://r:6379',
      JWT_SECRET_KEY: 'x'.repeat(32),
      ENCRYPTION_KEY: `k1:${Buffer.alloc(32, 1).toString('base64')}`,
    };
    expect(problemsOf(() => loadConfig('router', base))).toEqual([
      expect.stringMatching(/provider credential/),
    ]);
    // Stored responses are encrypted with the tenants' data keys: the router needs the ring too.
    const { ENCRYPTION_KEY: _key, ...withoutKey } = base;
    expect(problemsOf(() => loadConfig('router', { ...withoutKey, OPENAI_API_KEY: 'sk-1' }))).toEqual([
      expect.stringMatching(/^ENCRYPTION_KEY is required in production/),
    ]);
    expect(loadConfig('router', { ...base, OPENAI_API_KEY: 'sk-1' }).database.type).toBe('postgres');
    expect(loadConfig('router', { ...base, ATP_ALLOW_EMBEDDED: 'true' }).production).toBe(true);
  });

  it('ATP_ROUTER_WORKERS: 1 by default, a number or auto, and more than 1 only with REDIS_URL', () => {
    expect(loadConfig('router', { ATP_DATA_DIR: dir }).env.ATP_ROUTER_WORKERS).toBe(1);
    const redis = { ATP_DATA_DIR: dir, REDIS_URL: 'redis://127.0.0.1:6379' };
    expect(loadConfig('router', { ...redis, ATP_ROUTER_WORKERS: '2' }).env.ATP_ROUTER_WORKERS).toBe(2);
    expect(
      loadConfig('router', { ...redis, ATP_ROUTER_WORKERS: 'auto' }).env.ATP_ROUTER_WORKERS,
    ).toBeGreaterThanOrEqual(1);
    expect(problemsOf(() => loadConfig('router', { ATP_DATA_DIR: dir, ATP_ROUTER_WORKERS: '2' }))).toEqual([
      expect.stringMatching(/^ATP_ROUTER_WORKERS above 1 needs REDIS_URL/),
    ]);
    expect(problemsOf(() => loadConfig('router', { ...redis, ATP_ROUTER_WORKERS: 'many' }))).toEqual([
      expect.stringMatching(/^ATP_ROUTER_WORKERS must be a number or auto/),
    ]);
  });

  it('ATP_PII_WORKERS: min(2, CPUs) by default on both services, 0 allowed, no words', () => {
    const cpus = Math.min(2, availableParallelism());
    expect(loadConfig('router', { ATP_DATA_DIR: dir }).env.ATP_PII_WORKERS).toBe(cpus);
    expect(loadConfig('memory-gateway', { ATP_DATA_DIR: dir }).env.ATP_PII_WORKERS).toBe(cpus);
    expect(
      loadConfig('memory-gateway', { ATP_DATA_DIR: dir, ATP_PII_WORKERS: '0' }).env.ATP_PII_WORKERS,
    ).toBe(0);
    expect(problemsOf(() => loadConfig('router', { ATP_DATA_DIR: dir, ATP_PII_WORKERS: 'many' }))).toEqual([
      expect.stringMatching(/^ATP_PII_WORKERS must be a number of threads/),
    ]);
  });

  it('ATP_SQLITE_SYNCHRONOUS: normal by default, full on request (any case), nothing else', () => {
    const db = (env: Record<string, string>) => loadConfig('router', { ATP_DATA_DIR: dir, ...env }).database;
    expect(db({})).toMatchObject({ type: 'sqlite', synchronous: 'normal' });
    expect(db({ ATP_SQLITE_SYNCHRONOUS: 'FULL' })).toMatchObject({ type: 'sqlite', synchronous: 'full' });
    expect(problemsOf(() => db({ ATP_SQLITE_SYNCHRONOUS: 'off' }))).toEqual([
      expect.stringMatching(/^ATP_SQLITE_SYNCHRONOUS must be normal or full/),
    ]);
  });

  it('ATP_ALLOW_EMBEDDED=true lets production run on the embedded defaults', () => {
    const c = loadConfig('router', {
      NODE_ENV: 'production',
      ATP_ALLOW_EMBEDDED: 'true',
      JWT_SECRET_KEY: 'y'.repeat(40),
      ATP_DATA_DIR: dir,
    });
    expect(c.database.type).toBe('sqlite');
    expect(c.jwtSecret).toBe('y'.repeat(40));
  });

  it('production never writes generated secrets; the CLI needs only DATABASE_URL', () => {
    const prod = {
      NODE_ENV: 'production',
      ATP_DATA_DIR: join(dir, 'never'),
      DATABASE_URL: 'postgres://u:p@db:5432/atp',
      REDIS_URL: 'redis://r:6379',
      JWT_SECRET_KEY: 'z'.repeat(32),
      ENCRYPTION_KEY: `k1:${Buffer.alloc(32, 2).toString('base64')}`,
      OPENAI_API_KEY: 'sk-1',
    };
    loadConfig('router', prod);
    const cli = loadConfig('cli', {
      NODE_ENV: 'production',
      ATP_DATA_DIR: join(dir, 'never'),
      DATABASE_URL: prod.DATABASE_URL,
    });
    expect(cli.jwtSecret).toBe('');
    expect(existsSync(join(dir, 'never'))).toBe(false);
    expect(problemsOf(() => loadConfig('cli', { NODE_ENV: 'production' }))).toEqual([
      expect.stringMatching(/^DATABASE_URL/),
    ]);
  });

  it('accepts the Cloud SQL unix-socket URL form', () => {
    const c = loadConfig('router', {
      DATABASE_URL: 'postgres://atp:pw@/atp?host=/cloudsql/p:r:i',
      ATP_DATA_DIR: dir,
    });
    expect(c.database).toEqual({ type: 'postgres', url: 'postgres://atp:pw@/atp?host=/cloudsql/p:r:i' });
  });

  it('reports malformed values with what is wrong, without echoing secrets', () => {
    const problems = problemsOf(() =>
      loadConfig('router', {
        LOG_LEVEL: 'chatty',
        PORT: '70000',
        REDIS_URL: 'http://x',
        AUDIT_LOG_ENABLED: 'maybe',
      }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR/),
        expect.stringMatching(/^PORT must be between 0 and 65535/),
        expect.stringMatching(/^REDIS_URL must be a Redis URL/),
        expect.stringMatching(/^AUDIT_LOG_ENABLED must be true or false/),
      ]),
    );
  });

  it('LOG_LEVEL is case-insensitive and CORS_ORIGINS a list', () => {
    const c = loadConfig('router', {
      LOG_LEVEL: 'warning',
      CORS_ORIGINS: 'https://a.example, https://b.example',
      ATP_DATA_DIR: dir,
    });
    expect(c.env.LOG_LEVEL).toBe('WARNING');
    expect(c.env.CORS_ORIGINS).toEqual(['https://a.example', 'https://b.example']);
  });
});

describe('parseKeyRing', () => {
  it('a bare key is ring k0; kid:key pairs keep their ids, first is primary', () => {
    expect(parseKeyRing(KEY_A).map((k) => k.id)).toEqual(['k0']);
    const ring = parseKeyRing(`new:${KEY_B},old:${KEY_A}`);
    expect(ring.map((k) => k.id)).toEqual(['new', 'old']);
    expect(ring[0].key.equals(Buffer.alloc(32, 2))).toBe(true);
  });

  it('rejects short keys, bad ids and duplicates', () => {
    expect(() => parseKeyRing(Buffer.alloc(16).toString('base64'))).toThrow(/32 bytes/);
    expect(() => parseKeyRing(`bad id:${KEY_A}`)).toThrow(/key id/);
    expect(() => parseKeyRing(`a:${KEY_A},a:${KEY_B}`)).toThrow(/duplicate/);
    expect(() => parseKeyRing('not base64!!')).toThrow(/32 bytes/);
  });
});
