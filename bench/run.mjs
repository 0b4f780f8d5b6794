#!/usr/bin/env node
// `npm run bench [-- <mode>] [--json <file>] [--compare <previous.json>] [--only T1,T3]`
//
//   (no mode)       issue 19's targets T1–T6, PASS / FAIL / SKIP each (bench/lib/issue-targets.mjs)
//   streams         T3 only: the 1000 concurrent streams
//   scenarios       the overview: direct, null, nest-floor, router, router-batched (…) under SCENARIOS
//   doors           chat vs Messages vs Responses doors on the router
//   compare-before  this router against BENCH_BEFORE_DIR's build, interleaved rounds
//   memory          the memory gateway (bench/memory.mjs)
//   diff <a> <b>    compares two result JSONs of the target run, without running anything
//
// Loopback only; every load is bounded in count and time; every child is stopped and every
// scratch database, directory and Redis prefix removed at the end, on errors and on Ctrl-C.
// See bench/README.md for the environment variables.
import { readFileSync } from 'node:fs';
import { issueTargets } from './lib/issue-targets.mjs';
import { memoryMode } from './lib/memory-mode.mjs';
import { runMain } from './lib/proc.mjs';
import { compareWith } from './lib/report.mjs';
import { compareBeforeMode, doorsMode, scenariosMode } from './lib/scenarios.mjs';

/** Splits argv into the mode, its positional arguments and the --flags the runner knows. */
function parseArgs(argv) {
  const flags = {};
  const positional = [];
  for (let i = 0; i < argv.length; i++) {
    const m = /^--(json|compare|only)(?:=(.*))?$/.exec(argv[i]);
    if (m) flags[m[1]] = m[2] ?? argv[++i];
    else positional.push(argv[i]);
  }
  const [mode = 'targets', ...rest] = positional;
  return { mode, rest, flags };
}

const { mode, rest, flags } = parseArgs(process.argv.slice(2));
const options = {
  jsonFile: flags.json,
  compareFile: flags.compare,
  only: flags.only?.split(',').map((s) => s.trim().toUpperCase()),
};

const modes = {
  targets: () => issueTargets(options),
  streams: () => issueTargets({ ...options, only: ['T3'] }),
  scenarios: () => scenariosMode(options),
  doors: () => doorsMode(options),
  'compare-before': () => compareBeforeMode(options),
  // memory.mjs takes its own flags (--url, --key, …): pass everything after the mode through.
  memory: () => memoryMode(process.argv.slice(3)),
  diff: async () => {
    if (rest.length !== 2) throw new Error('usage: npm run bench -- diff <before.json> <after.json>');
    compareWith(rest[0], JSON.parse(readFileSync(rest[1], 'utf8')));
    return 0;
  },
};

if (!modes[mode]) {
  console.error(`unknown mode ${mode}: one of ${Object.keys(modes).join(', ')}`);
  process.exit(2);
}
runMain(modes[mode]);
