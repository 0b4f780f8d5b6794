import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');

/** Debian's Chromium (apt-get install chromium): the browser tests download no browser. */
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** The router serves what `npm run build` produced: build the console if it is missing or stale. */
export function ensureConsoleBuilt(): void {
  const index = join(ROOT, 'dist', 'apps', 'router', 'console', 'index.html');
  const sources = newestMtime(join(ROOT, 'apps', 'router', 'console-ui'));
  if (existsSync(index) && statSync(index).mtimeMs > sources) return;
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-console.mjs')], {
    cwd: ROOT,
    stdio: 'ignore',
  });
}
