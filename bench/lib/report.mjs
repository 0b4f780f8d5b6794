// Printing and keeping results: markdown tables, the PASS/FAIL summary, the result JSON, and the
// comparison of one result JSON with another.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Prints a markdown table; `cols` are [header, (row) => cell, align?] with align 'l' or 'r' (default). */
export function table(title, cols, rows) {
  if (title) console.log(`\n${title}`);
  console.log(`| ${cols.map((c) => c[0]).join(' | ')} |`);
  console.log(`|${cols.map((c) => (c[2] === 'l' ? '---' : '---:')).join('|')}|`);
  for (const r of rows) console.log(`| ${cols.map((c) => cell(c[1](r))).join(' | ')} |`);
}

function cell(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return 'n/a';
  return String(v);
}

/** A number rounded to `digits` decimals (NaN stays NaN), for tables and JSON alike. */
export const round = (n, digits = 2) =>
  Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : NaN;
/** `a / b` rounded, or NaN when either is missing or b is 0. */
export const ratio = (a, b, digits = 2) =>
  Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? round(a / b, digits) : NaN;
/** A signed difference for verdicts: `+0.21`, `-0.05`. */
export const signed = (n, digits = 2) =>
  Number.isFinite(n) ? `${n >= 0 ? '+' : ''}${n.toFixed(digits)}` : 'n/a';

/**
 * The metrics a later run is compared with: a flat map of name → { value, unit, better } where
 * `better` is 'lower' or 'higher'. Non-finite values are left out.
 */
export class Metrics {
  constructor() {
    this.all = {};
  }
  lower(name, value, unit) {
    this.#put(name, value, unit, 'lower');
  }
  higher(name, value, unit) {
    this.#put(name, value, unit, 'higher');
  }
  #put(name, value, unit, better) {
    if (Number.isFinite(value)) this.all[name] = { value, unit, better };
  }
}

/** One target's outcome: PASS / FAIL / SKIP with its one-line verdict. */
export const outcome = (id, label, pass, verdict) => ({ id, label, status: pass ? 'PASS' : 'FAIL', verdict });
export const skip = (id, label, verdict) => ({ id, label, status: 'SKIP', verdict });

export function printSummary(outcomes) {
  const width = Math.max(...outcomes.map((o) => `${o.id} ${o.label}`.length));
  console.log('\nsummary (issue 19 targets)');
  for (const o of outcomes)
    console.log(`${`${o.id} ${o.label}`.padEnd(width)}  ${o.status.padEnd(4)}  ${o.verdict}`);
}

export function writeJson(file, data) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(data, null, 2) + '\n');
}

/** How much worse a metric may get before the comparison calls it a regression. */
const TOLERANCE = 0.1;

/**
 * Prints every metric of `now` beside the same metric in the result JSON `previousFile`, with
 * now / before, and marks the ones more than 10% worse. Returns how many regressed.
 */
export function compareWith(previousFile, now) {
  const before = JSON.parse(readFileSync(previousFile, 'utf8'));
  const names = Object.keys(now.metrics).filter((n) => before.metrics?.[n]);
  const rows = names.map((name) => {
    const a = before.metrics[name];
    const b = now.metrics[name];
    return {
      name,
      unit: b.unit,
      before: a.value,
      now: b.value,
      ratio: ratio(b.value, a.value),
      flag: regressed(a, b),
    };
  });
  table(
    `compared with ${previousFile} (${before.startedAt ?? 'unknown date'}); worse by more than ${TOLERANCE * 100}% is marked`,
    [
      ['metric', (r) => r.name, 'l'],
      ['unit', (r) => r.unit, 'l'],
      ['before', (r) => r.before],
      ['now', (r) => r.now],
      ['now / before', (r) => r.ratio],
      ['', (r) => (r.flag ? 'REGRESSION' : ''), 'l'],
    ],
    rows,
  );
  const statusBefore = new Map((before.targets ?? []).map((t) => [`${t.id} ${t.label}`, t.status]));
  for (const t of now.targets) {
    const was = statusBefore.get(`${t.id} ${t.label}`);
    if (was && was !== t.status) console.log(`${t.id} ${t.label}: ${was} → ${t.status}`);
  }
  const missing = Object.keys(before.metrics ?? {}).filter((n) => !now.metrics[n]);
  if (missing.length) {
    const groups = [...new Set(missing.map((n) => n.split('.')[0]))];
    console.log(
      `not measured in this run: ${missing.length} metrics (${groups.map((g) => `${g}.*`).join(', ')})`,
    );
  }
  const regressions = rows.filter((r) => r.flag).length;
  console.log(`${regressions} of ${rows.length} metrics regressed by more than ${TOLERANCE * 100}%`);
  return regressions;
}

/**
 * Worse by more than the tolerance. A metric that was 0 (errors) regresses when it grows; added
 * latencies can be near 0 or negative, so those compare by their absolute change (0.1 ms).
 */
function regressed(a, b) {
  const worse = a.better === 'lower' ? b.value - a.value : a.value - b.value;
  if (worse <= 0) return false;
  if (a.value === 0) return true;
  if (a.unit === 'ms' && Math.abs(a.value) < 1) return worse > 0.1;
  return worse > Math.abs(a.value) * TOLERANCE;
}
