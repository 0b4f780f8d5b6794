// `npm run bench -- memory`: starts the memory gateway from dist/ (on DATABASE_URL/REDIS_URL when
// set, in a fresh database dropped afterwards; else embedded), then runs bench/memory.mjs.
// With `--url` it only runs the load against a gateway that is already up.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep, start, waitFor } from './proc.mjs';
import { ensureBuilt, root, scratchDatabase, scratchDir, scratchRedisPrefix } from './stack.mjs';

const PORT = 18000;

export async function memoryMode(args) {
  const load = (extra) =>
    spawnSync(process.execPath, [join(root, 'bench', 'memory.mjs'), ...args, ...extra], { stdio: 'inherit' })
      .status ?? 1;
  if (args.some((a) => a.startsWith('--url'))) return load([]);
  ensureBuilt();
  const dataDir = scratchDir('atp-bench-mem-');
  const env = {
    PORT: String(PORT),
    ATP_DATA_DIR: dataDir,
    LOG_LEVEL: process.env.LOG_LEVEL || 'WARNING',
    NODE_ENV: 'development',
  };
  const db = await scratchDatabase();
  if (db) env.DATABASE_URL = db;
  if (process.env.REDIS_URL) env.REDIS_KEY_PREFIX = scratchRedisPrefix();
  const gw = start('memory-gateway', [join(root, 'dist', 'apps', 'memory-gateway', 'main.js')], {
    env,
    cwd: root,
  });
  await waitFor(`http://127.0.0.1:${PORT}/health`, { child: gw });
  const credsFile = join(dataDir, 'dev-credentials.json');
  for (let i = 0; i < 100 && !existsSync(credsFile); i++) await sleep(100);
  const { api_key: key } = JSON.parse(readFileSync(credsFile, 'utf8'));
  console.log(
    `memory gateway on ${db ? 'PostgreSQL' : 'SQLite'} + ${process.env.REDIS_URL ? 'Redis' : 'in-process cache'}`,
  );
  return load(['--url', `http://127.0.0.1:${PORT}`, '--key', key]);
}
