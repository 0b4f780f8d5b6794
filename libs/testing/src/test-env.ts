import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { readProcessEnv } from '@app/config';

const processEnv = readProcessEnv();

/** Is PostgreSQL configured for this run (CI sets DATABASE_URL)? */
export const usingPostgres = Boolean(processEnv.DATABASE_URL);
/** Is Redis configured for this run (CI sets REDIS_URL)? */
export const usingRedis = Boolean(processEnv.REDIS_URL);
export const SERVICES_LABEL = `${usingPostgres ? 'postgres' : 'sqlite'}+${usingRedis ? 'redis' : 'memory'}`;

export interface TestEnv {
  env: Record<string, string>;
  dataDir: string;
  databaseUrl?: string;
  /** Drops the database and removes the data dir. */
  cleanup(): Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/**
 * An isolated environment for one test file: a temp data dir (SQLite lives there), and, when
 * DATABASE_URL/REDIS_URL are configured, a fresh PostgreSQL database and a unique Redis key
 * prefix, so test files can run in parallel against shared services.
 */
export async function createTestEnv(overrides: Record<string, string> = {}): Promise<TestEnv> {
  const dataDir = mkdtempSync(join(tmpdir(), 'atp-test-'));
  const id = randomBytes(6).toString('hex');
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'INFO',
    ATP_DATA_DIR: dataDir,
    JWT_SECRET_KEY: `test-secret-${randomBytes(24).toString('hex')}`,
    ENCRYPTION_KEY: `t1:${randomBytes(32).toString('base64')}`,
    ATP_SHUTDOWN_GRACE_SECONDS: '2',
  };
  let databaseUrl: string | undefined;
  let dbName: string | undefined;
  if (processEnv.DATABASE_URL) {
    dbName = `atp_t_${id}`;
    const admin = new Client({ connectionString: processEnv.DATABASE_URL });
    admin.on('error', () => undefined);
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${dbName}`);
    } finally {
      await admin.end();
    }
    databaseUrl = withDatabase(processEnv.DATABASE_URL, dbName);
    env.DATABASE_URL = databaseUrl;
  }
  if (processEnv.REDIS_URL) {
    env.REDIS_URL = processEnv.REDIS_URL;
    env.REDIS_KEY_PREFIX = `atp-t-${id}:`;
  }
  Object.assign(env, overrides);
  return {
    env,
    dataDir,
    databaseUrl,
    async cleanup() {
      rmSync(dataDir, { recursive: true, force: true });
      if (dbName && processEnv.DATABASE_URL) {
        const admin = new Client({ connectionString: processEnv.DATABASE_URL });
        admin.on('error', () => undefined);
        await admin.connect();
        try {
          await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
        } finally {
          await admin.end();
        }
      }
    },
  };
}
