#!/usr/bin/env node
// `npm start`: rebuild the apps whose sources changed (usually none), then run both built services
// side by side on the embedded defaults (or whatever DATABASE_URL / REDIS_URL say). Applies migrations once first, so the two services never race
// on a fresh database. Ctrl-C (or SIGTERM) stops both cleanly; the exit code is 0 when both
// stopped cleanly.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildIfStale, distOf } from './build-if-stale.mjs';

const services = [
  { name: 'router', port: Number(process.env.ATP_ROUTER_PORT || 8080) },
  { name: 'memory-gateway', port: Number(process.env.ATP_GATEWAY_PORT || 8000) },
];
const dist = (app) => distOf(app);

// Build only what changed since the last build (nothing, usually): a fresh start takes seconds.
try {
  buildIfStale({ log: (m) => console.error(m) });
} catch (err) {
  console.error(err.message);
  process.exit(1);
}

const migrate = spawnSync(process.execPath, [dist('cli'), 'migrate'], { stdio: 'inherit' });
if (migrate.status !== 0) process.exit(migrate.status ?? 1);

let stopping = false;
const children = services.map(({ name, port }) => {
  const child = spawn(process.execPath, [dist(name)], {
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  child.on('exit', (code, signal) => {
    child.exitCode_ = code ?? (signal ? 128 : 1);
    if (!stopping) {
      console.error(`${name} exited unexpectedly (${signal ?? code}); stopping the other service`);
      stop('SIGTERM', 1);
    } else if (children.every((c) => c.exitCode_ !== undefined)) {
      const worst = Math.max(...children.map((c) => c.exitCode_));
      process.exit(worst === 0 ? exitCode : worst);
    }
  });
  return child;
});

let exitCode = 0;
function stop(signal, code = 0) {
  if (stopping) return;
  stopping = true;
  exitCode = code;
  for (const c of children) if (c.exitCode_ === undefined) c.kill('SIGTERM');
  // Services drain for up to their grace period; never hang forever.
  setTimeout(() => {
    for (const c of children) if (c.exitCode_ === undefined) c.kill('SIGKILL');
    process.exit(1);
  }, 15_000).unref();
}
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));

async function waitHealthy(port, deadline) {
  while (Date.now() < deadline && !stopping) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      if (res.ok) return true;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

const deadline = Date.now() + 60_000;
const up = await Promise.all(services.map((s) => waitHealthy(s.port, deadline)));
if (!stopping) {
  if (up.every(Boolean)) {
    const dataDir = resolve(process.env.ATP_DATA_DIR || '.atp');
    const creds = join(dataDir, 'dev-credentials.json');
    const lines = [
      '',
      'ATP is running:',
      `  router          http://localhost:${services[0].port}   (docs: http://localhost:${services[0].port}/docs)`,
      `  memory gateway  http://localhost:${services[1].port}   (docs: http://localhost:${services[1].port}/docs)`,
      `  admin console   http://localhost:${services[0].port}/console   (sign in with the api_key below)`,
      existsSync(creds)
        ? `  dev credentials ${creds}`
        : `  dev credentials: none yet (${creds} appears once the services create them)`,
      'Press Ctrl-C to stop both.',
      '',
    ];
    console.log(lines.join('\n'));
  } else {
    console.error('a service did not become healthy within 60 s; stopping');
    stop('SIGTERM', 1);
  }
}
