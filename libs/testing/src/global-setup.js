// Runs once before the suite. Tests that start the built services (SIGTERM, npm start,
// production config) need dist/: build it when it is missing or older than the sources.
// Also enforces ATP_REQUIRE_SERVICES=1: PostgreSQL and Redis must be configured and answer.
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');
const net = require('node:net');

const root = join(__dirname, '..', '..', '..');

/** The same staleness check and per-app build as `npm start` (scripts/build-if-stale.mjs). */
function buildIfStale() {
  execFileSync(process.execPath, [join(root, 'scripts', 'build-if-stale.mjs')], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
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
