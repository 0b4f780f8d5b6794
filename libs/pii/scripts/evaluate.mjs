#!/usr/bin/env node
// Prints per-type precision/recall of @app/pii over its labelled corpus:
//   node libs/pii/scripts/evaluate.mjs [--errors] [--check] [corpus.jsonl]
// --errors lists every false positive/negative; --check exits 1 when a structured type is < 0.95.
// The library is TypeScript and Node 20 cannot strip types, so this compiles it on the fly with
// @swc/core (already a dev dependency of the repo). Only relative imports are loaded: no aliases.
/* global process, console */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const { transformSync } = require('@swc/core');
const Module = require('node:module');

Module._extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(readFileSync(filename, 'utf8'), {
    filename,
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const showErrors = args.includes('--errors');
const check = args.includes('--check');
const corpusPath = args.find((a) => !a.startsWith('--')) ?? join(here, '..', 'corpus', 'corpus.jsonl');

const { evaluateCorpus, formatEvaluationTable, parseCorpus } = require('../src/evaluate.ts');
const lines = parseCorpus(readFileSync(corpusPath, 'utf8'));
const started = process.hrtime.bigint();
const result = evaluateCorpus(lines);
const ms = Number(process.hrtime.bigint() - started) / 1e6;

console.log(`${result.lines} lines, evaluated in ${ms.toFixed(1)} ms\n`);
console.log(formatEvaluationTable(result.rows));
if (showErrors) {
  console.log('');
  for (const e of result.errors)
    console.log(`${e.kind} line ${e.line} ${e.type}: ${JSON.stringify(e.value)}`);
}
if (check) {
  const structured = ['EMAIL', 'PHONE', 'CREDIT_CARD', 'US_SSN', 'IBAN', 'IP_ADDRESS', 'SECRET'];
  const failing = result.rows.filter(
    (r) => structured.includes(r.type) && ((r.precision ?? 0) < 0.95 || (r.recall ?? 0) < 0.95),
  );
  if (failing.length > 0) {
    console.error(`below 0.95: ${failing.map((r) => r.type).join(', ')}`);
    process.exit(1);
  }
}
