// Child processes and what the bench reads about them (/proc): every child is registered so that
// it is killed on success, on error and on SIGINT/SIGTERM; cleanups (scratch databases, data
// directories, Redis keys) run once, after the children are gone.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { clearTimeout } from 'node:timers';

const children = new Set();
const cleanups = [];
let stopping = false;

/**
 * Starts `node <args>` as a child; its stderr tail is printed if it dies while the bench runs.
 * Its stdout is dropped unless `stdout: 'inherit'`.
 */
export function start(name, args, { env = {}, cwd, stdout = 'ignore' } = {}) {
  if (stopping) throw new Error(`the bench is stopping: ${name} not started`);
  const child = spawn(process.execPath, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', stdout, 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d) => (err = (err + d).slice(-4000)));
  child.on('exit', (code, signal) => {
    children.delete(child);
    if (!stopping && !child.stopping && code !== 0)
      console.error(`${name} exited with ${code ?? signal}: ${err}`);
  });
  child.benchName = name;
  children.add(child);
  return child;
}

/** SIGTERM, then SIGKILL after `graceMs` (`child.graceMs`, 3 s); resolves when the child has exited. */
export async function stop(child, graceMs = child?.graceMs ?? 3000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.stopping = true;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Whether the bench is shutting down (after a signal, or at the end). */
export const isStopping = () => stopping;

/** Registers work to do at the end (after every child has stopped), last registered first. */
export function onCleanup(fn) {
  cleanups.unshift(fn);
}

/** Stops every child, then runs the cleanups; safe to call more than once. */
export async function shutdown() {
  stopping = true;
  await Promise.all([...children].map((c) => stop(c)));
  while (cleanups.length) {
    const fn = cleanups.shift();
    await Promise.resolve()
      .then(fn)
      .catch((err) => console.error(`cleanup failed: ${err.message}`));
  }
}

/** Runs `main` and exits with its code; children and cleanups are handled on every path. */
export function runMain(main) {
  let interrupted = false;
  const onSignal = (signal) => {
    interrupted = true;
    console.error(`\n${signal}: stopping the bench`);
    shutdown().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // After a signal, whatever main() still does (its children are gone) is not reported.
  main().then(
    async (code) => {
      if (interrupted) return;
      await shutdown();
      process.exit(code ?? 0);
    },
    async (err) => {
      if (interrupted) return;
      console.error(err.stack ?? err.message);
      await shutdown();
      process.exit(1);
    },
  );
}

/** The value of `--name value` or `--name=value` on this process's command line, or `fallback`. */
export function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i > 0 && process.argv[i + 1]) return process.argv[i + 1];
  const eq = process.argv.find((a) => a.startsWith(`--${name}=`));
  return eq ? eq.slice(name.length + 3) : fallback;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `url` until it answers 2xx; fails after `timeoutMs` or when `child` dies first. */
export async function waitFor(url, { timeoutMs = 60_000, child } = {}) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`${child.benchName} exited before ${url} answered`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not yet */
    }
    await sleep(100);
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

/** CPU seconds (user + system, all threads) a process has used; with `tree`, its children's too. */
export function cpuSeconds(pid, tree = false) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    let total = (Number(f[11]) + Number(f[12])) / 100;
    if (tree) {
      const kids = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout.split('\n');
      for (const k of kids.filter(Boolean)) total += cpuSeconds(Number(k));
    }
    return total;
  } catch {
    return NaN;
  }
}

/** Peak resident memory of a process over its whole life so far (VmHWM), in MB. */
export function peakRssMb(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : NaN;
  } catch {
    return NaN;
  }
}
