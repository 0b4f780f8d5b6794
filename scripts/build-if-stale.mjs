#!/usr/bin/env node
// Rebuilds dist/apps/<app>/main.js only for the apps whose sources changed since the last build:
// a webpack build takes 20–40 s per app, a staleness check a few milliseconds. `npm start`
// imports it; jest's global setup runs it as a script (`node scripts/build-if-stale.mjs`).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const APPS = ['router', 'memory-gateway', 'cli'];

/** Files every build reads besides the sources: a change to any of them rebuilds every app. */
const SHARED_INPUTS = [
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'nest-cli.json',
  'webpack.config.js',
];

/** Newest mtime of the build inputs under `dir`: .ts and .json files (any file with `all`), not tests or specs. */
function newestInput(dir, all = false) {
  let newest = 0;
  if (!existsSync(dir)) return newest;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (['node_modules', 'test', 'dist'].includes(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestInput(path, all));
    else if ((all || /\.(ts|json)$/.test(entry.name)) && !/\.(e2e-)?spec\.ts$/.test(entry.name))
      newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

export function distOf(app, root = ROOT) {
  return join(root, 'dist', 'apps', app, 'main.js');
}

/** Apps whose bundle is missing or older than its app folder, libs/ or a shared config file. */
export function staleApps(root = ROOT, apps = APPS) {
  const libs = newestInput(join(root, 'libs'));
  const shared = sharedInputsMtime(root);
  return apps.filter((app) => {
    const out = distOf(app, root);
    if (!existsSync(out)) return true;
    const sources = Math.max(libs, shared, newestInput(join(root, 'apps', app)));
    return statSync(out).mtimeMs <= sources;
  });
}

function sharedInputsMtime(root) {
  return Math.max(
    0,
    ...SHARED_INPUTS.map((f) => join(root, f))
      .filter(existsSync)
      .map((f) => statSync(f).mtimeMs),
  );
}

/**
 * The admin console's assets (scripts/build-console.mjs → dist/apps/router/console): stale when
 * missing (a router build may have emptied its folder) or older than apps/router/console-ui.
 */
export function consoleStale(root = ROOT) {
  const out = join(root, 'dist', 'apps', 'router', 'console', 'index.html');
  if (!existsSync(out)) return true;
  const sources = Math.max(
    sharedInputsMtime(root),
    newestInput(join(root, 'apps', 'router', 'console-ui'), true),
  );
  return statSync(out).mtimeMs <= sources;
}

/**
 * Builds the stale apps with `nest build <app>`, one after the other (webpack uses every core).
 * Returns the apps built; throws when a build fails.
 */
export function buildIfStale({ root = ROOT, apps = APPS, log = (m) => process.stderr.write(`${m}\n`) } = {}) {
  const stale = staleApps(root, apps);
  const nest = join(root, 'node_modules', '.bin', 'nest');
  for (const app of stale) {
    log(`building ${app} (sources changed since dist/apps/${app}/main.js)…`);
    const res = spawnSync(nest, ['build', app], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
    if (res.status !== 0) throw new Error(`nest build ${app} failed (exit ${res.status ?? res.signal})`);
    // webpack leaves an identical bundle unwritten (compareBeforeEmit): mark it as built anyway,
    // or an app that a change did not affect would be rebuilt on every start.
    const now = new Date();
    utimesSync(distOf(app, root), now, now);
  }
  if (apps.includes('router') && consoleStale(root)) {
    log('building the console (apps/router/console-ui changed)…');
    const res = spawnSync(process.execPath, [join(root, 'scripts', 'build-console.mjs')], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (res.status !== 0) throw new Error(`the console build failed (exit ${res.status ?? res.signal})`);
    stale.push('console');
  }
  return stale;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    buildIfStale();
  } catch (err) {
    console.error(err.message);
    process.exit(1);
  }
}
