#!/usr/bin/env node
// Express vs Fastify under Nest on a trivial route: the measurement behind the platform choice.
// Interleaved rounds on loopback, 50 connections; prints RPS and p99 per round and the ratio.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const here = dirname(fileURLToPath(import.meta.url));
const DURATION = Number(process.env.DURATION || 5);
const ROUNDS = Number(process.env.ROUNDS || 2);

async function measure(platform, port) {
  const child = spawn(process.execPath, [join(here, 'platform-app.mjs'), platform, String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise((resolve) => child.stdout.once('data', resolve));
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/ping`,
    connections: 50,
    duration: DURATION,
  });
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  return {
    rps: Math.round(result.requests.average),
    p99: result.latency.p99,
    errors: result.errors + result.non2xx,
  };
}

const rows = [];
for (let round = 1; round <= ROUNDS; round++) {
  const order = round % 2 ? ['express', 'fastify'] : ['fastify', 'express'];
  for (const platform of order) {
    const r = await measure(platform, 18_000 + round * 10 + (platform === 'fastify' ? 1 : 0));
    rows.push({ round, platform, ...r });
    console.log(
      `round ${round} ${platform.padEnd(8)} ${String(r.rps).padStart(7)} req/s  p99 ${r.p99} ms  errors ${r.errors}`,
    );
  }
}
const avg = (p) => rows.filter((r) => r.platform === p).reduce((s, r) => s + r.rps, 0) / ROUNDS;
console.log(`fastify/express RPS ratio: ${(avg('fastify') / avg('express')).toFixed(2)}`);
