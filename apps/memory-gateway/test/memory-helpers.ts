// Helpers shared by the memory gateway's e2e suites.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import { ApiKeyService, operatorCaller, type Scope, TenantService } from '@app/auth';
import type { BootedApp } from '@app/testing';

export const ACTOR = operatorCaller('test');
export const MEMORY_SCOPES: Scope[] = ['memory:read', 'memory:write', 'audit:read', 'admin'];

export interface TestTenant {
  tenantId: string;
  /** Plaintext API key with MEMORY_SCOPES. */
  key: string;
}

/** A tenant and a key made through the real services. */
export async function createTenant(
  app: BootedApp,
  name: string,
  scopes: Scope[] = MEMORY_SCOPES,
): Promise<TestTenant> {
  const tenant = await app.app.get(TenantService).createTenant({ name, actor: ACTOR });
  const key = await createKey(app, tenant.id, scopes);
  return { tenantId: tenant.id, key };
}

export async function createKey(app: BootedApp, tenantId: string, scopes: Scope[]): Promise<string> {
  const created = await app.app.get(ApiKeyService).createKey({
    tenantId,
    name: `key ${scopes.join(',')}`,
    scopes,
    actor: { ...ACTOR, scopes: [...scopes] },
  });
  return created.key;
}

/** supertest bound to one credential. */
export function client(app: BootedApp, key: string) {
  const auth = (r: request.Test) => r.set('authorization', `Bearer ${key}`);
  return {
    put: (path: string, body: unknown, headers: Record<string, string> = {}) =>
      auth(request(app.url).put(path))
        .set(headers)
        .send(body as object),
    get: (path: string, headers: Record<string, string> = {}) =>
      auth(request(app.url).get(path)).set(headers),
    del: (path: string, headers: Record<string, string> = {}) =>
      auth(request(app.url).delete(path)).set(headers),
    post: (path: string, body: unknown) => auth(request(app.url).post(path)).send(body as object),
  };
}

export type Client = ReturnType<typeof client>;

/** Every table's rows as text (bytes as UTF-8 and as Latin-1, so no encoding hides a match). */
export async function dumpDatabase(
  ds: DataSource,
): Promise<{ text: string; tables: Record<string, number> }> {
  const pg = ds.options.type === 'postgres';
  const names = pg
    ? ((await ds.query(`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'`)) as {
        name: string;
      }[])
    : ((await ds.query(`SELECT name FROM sqlite_master WHERE type = 'table'`)) as { name: string }[]);
  const parts: string[] = [];
  const tables: Record<string, number> = {};
  for (const { name } of names) {
    const rows = (await ds.query(`SELECT * FROM "${name}"`)) as Record<string, unknown>[];
    tables[name] = rows.length;
    for (const row of rows) {
      for (const v of Object.values(row)) {
        if (Buffer.isBuffer(v) || v instanceof Uint8Array) {
          const b = Buffer.from(v);
          parts.push(b.toString('utf8'), b.toString('latin1'));
        } else {
          parts.push(typeof v === 'string' ? v : JSON.stringify(v));
        }
      }
    }
  }
  return { text: parts.join('\n'), tables };
}

/** The raw bytes of the SQLite database files (main, WAL, shared memory) as Latin-1 text. */
export function sqliteFilesText(dataDir: string): string {
  return readdirSync(dataDir)
    .filter((f) => f.startsWith('atp.sqlite'))
    .map((f) => readFileSync(join(dataDir, f)).toString('latin1'))
    .join('\n');
}

/** Every key and value under a Redis prefix (SCAN), as text. */
export async function dumpRedis(url: string, prefix: string): Promise<{ text: string; keys: string[] }> {
  const redis = new Redis(url);
  try {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    const parts: string[] = [...keys];
    for (const key of keys) {
      const type = await redis.type(key);
      if (type === 'string') parts.push((await redis.getBuffer(key))?.toString('latin1') ?? '');
      else if (type === 'hash') parts.push(JSON.stringify(await redis.hgetall(key)));
      else if (type === 'list') parts.push(JSON.stringify(await redis.lrange(key, 0, -1)));
      else if (type === 'set') parts.push(JSON.stringify(await redis.smembers(key)));
      else if (type === 'zset') parts.push(JSON.stringify(await redis.zrange(key, 0, -1)));
    }
    return { text: parts.join('\n'), keys };
  } finally {
    redis.disconnect();
  }
}

/** Audit events of the caller's tenant (the endpoint flushes the queue first). */
export async function auditEvents(c: Client, query = ''): Promise<Record<string, unknown>[]> {
  const res = await c.get(`/v1/audit?limit=1000${query}`).expect(200);
  return (res.body as { items: Record<string, unknown>[] }).items;
}
