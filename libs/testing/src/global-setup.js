// Runs once before the suite. Tests that start the built services (SIGTERM, npm start,
// production config) need dist/: build it when it is missing or older than the sources.
// Also enforces ATP_REQUIRE_SERVICES=1: PostgreSQL and Redis must be configured and answer.
const { execFileSync } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');
const net = require('node:net');

const root = join(__dirname, '..', '..', '..');

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'test') continue;
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts'))
      newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function buildIfStale() {
  const outputs = [
    ...['router', 'memory-gateway', 'cli'].map((a) => join(root, 'dist', 'apps', a, 'main.js')),
    // The PII worker thread's own bundle (webpack.config.js).
    ...['router', 'memory-gateway'].map((a) => join(root, 'dist', 'apps', a, 'pii.worker.js')),
  ];
  const built = outputs.every(existsSync) ? Math.min(...outputs.map((o) => statSync(o).mtimeMs)) : 0;
  const sources = Math.max(newestMtime(join(root, 'apps')), newestMtime(join(root, 'libs')));
  if (built > sources) return;
  process.stdout.write('\n[global-setup] building dist/ (sources changed)…\n');
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
}

function reachable(urlString, defaultPort) {
  const url = new URL(urlString);
  const host = url.hostname || '127.0.0.1';
  const port = Number(url.port || defaultPort);
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 3000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

module.exports = async function globalSetup() {
  if (process.env.ATP_REQUIRE_SERVICES === '1') {
    for (const [name, port] of [
      ['DATABASE_URL', 5432],
      ['REDIS_URL', 6379],
    ]) {
      const value = process.env[name];
      if (!value) throw new Error(`ATP_REQUIRE_SERVICES=1 but ${name} is not set`);
      if (!(await reachable(value, port)))
        throw new Error(`ATP_REQUIRE_SERVICES=1 but ${name} does not answer`);
    }
  }
  if (process.env.ATP_SKIP_BUILD !== '1') buildIfStale();
};
