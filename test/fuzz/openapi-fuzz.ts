import { spawn } from 'node:child_process';
import http from 'node:http';
import fc from 'fast-check';

/**
 * A property-based fuzz of every operation in a service's OpenAPI document: fast-check builds
 * requests (paths with unicode, percent-escapes and over-long segments; odd query strings;
 * valid, invalid and missing credentials; any content type; bodies shaped from the schemas and
 * then broken — wrong types, missing and extra fields, huge strings, deep nesting, `__proto__`,
 * text that is not JSON) and fires them in concurrent batches at a running service.
 *
 * ATP_FUZZ_SEED (default 20261207) and ATP_FUZZ_RUNS (requests, default 3000) choose the run;
 * a failure prints the seed, the request and the response.
 */
export const FUZZ_SEED = Number(process.env.ATP_FUZZ_SEED ?? 20261207);
export const FUZZ_REQUESTS = Number(process.env.ATP_FUZZ_RUNS ?? 3000);
const BATCH = 8;
/** Slowest acceptable answer (the property), and the client's give-up time. */
export const MAX_RESPONSE_MS = 2000;
const CLIENT_TIMEOUT_MS = 10_000;

type Schema = {
  $ref?: string;
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  nullable?: boolean;
  minimum?: number;
  maximum?: number;
  example?: unknown;
  allOf?: Schema[];
};

export interface OpenApi {
  paths: Record<
    string,
    Record<string, { parameters?: { name: string; in: string }[]; requestBody?: unknown }>
  >;
  components?: { schemas?: Record<string, Schema> };
}

export interface Operation {
  method: string;
  path: string;
  pathParams: string[];
  queryParams: string[];
  body: Schema | null;
}

export interface FuzzTarget {
  baseUrl: string;
  /** An all-scope credential, so generated requests get past auth and reach the handlers. */
  validKey: string;
  spec: OpenApi;
  /** Valid values for path parameters by name (e.g. namespace → ["notes"]), so some hit real records. */
  pathValues?: Record<string, string[]>;
  /** Valid bodies for an operation (`POST /v1/chat/completions`), mutated like the schema's. */
  bodyExamples?: Record<string, unknown[]>;
}

export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | null;
}

export interface FuzzResponse {
  status: number;
  ms: number;
  body: string;
  contentType: string;
}

/** Every operation of the document, plus the unauthenticated ones every service has. */
export function operations(spec: OpenApi): Operation[] {
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const params = op.parameters ?? [];
      const body = (op.requestBody as { content?: Record<string, { schema?: Schema }> } | undefined)
        ?.content?.['application/json']?.schema;
      ops.push({
        method: method.toUpperCase(),
        path,
        pathParams: params.filter((p) => p.in === 'path').map((p) => p.name),
        queryParams: params.filter((p) => p.in === 'query').map((p) => p.name),
        body: body ? resolve(spec, body) : null,
      });
    }
  }
  for (const path of ['/health', '/ready', '/openapi.json'])
    if (!spec.paths[path]) ops.push({ method: 'GET', path, pathParams: [], queryParams: [], body: null });
  return ops;
}

function resolve(spec: OpenApi, s: Schema, depth = 0): Schema {
  if (depth > 8) return {};
  if (s.$ref) {
    const name = s.$ref.split('/').pop()!;
    return resolve(spec, spec.components?.schemas?.[name] ?? {}, depth + 1);
  }
  if (s.allOf?.length) return resolve(spec, s.allOf[0], depth + 1);
  const out: Schema = { ...s };
  if (s.properties) {
    out.properties = {};
    for (const [k, v] of Object.entries(s.properties)) out.properties[k] = resolve(spec, v, depth + 1);
  }
  if (s.items) out.items = resolve(spec, s.items, depth + 1);
  return out;
}

// ---- arbitraries -------------------------------------------------------------------------

const ascii = (max: number) =>
  fc.string({
    unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
    maxLength: max,
  });

/** A path segment: valid names, unicode (percent-encoded), raw percent junk, very long, dot segments. */
const segment = (valid: string[]): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 10, arbitrary: valid.length ? fc.constantFrom(...valid) : fc.constant('x') },
    { weight: 3, arbitrary: fc.stringMatching(/^[A-Za-z0-9._:-]{1,40}$/) },
    {
      weight: 2,
      arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }).map(encodeURIComponent),
    },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        '%',
        '%zz',
        '%E0%A4%A',
        '%00',
        '%2F',
        '%2e%2e',
        '%C0%AF',
        '%FF%FE',
        '..',
        '.',
        '%25',
      ),
    },
    { weight: 1, arbitrary: ascii(40).map((s) => s.replace(/[/?#]/g, '') || 'y') },
    { weight: 1, arbitrary: fc.integer({ min: 100, max: 1500 }).map((n) => 'k'.repeat(n)) },
  );

const queryValue = fc.oneof(
  fc.constantFrom(
    '',
    '1',
    '0',
    '-1',
    '1000',
    '1001',
    '99999999999999999999',
    'day',
    'model',
    'api_key',
    'null',
  ),
  fc.constantFrom('2026-01-01', '2026-12-31T23:59:59Z', '1700000000', 'not-a-date', 'chat.completion'),
  fc.string({ unit: 'grapheme', maxLength: 40 }).map(encodeURIComponent),
  fc.constantFrom('%', '%zz', '%E0%A4%A', 'a%00b', '[]', '{}', 'a&b=c'),
  fc.integer({ min: 200, max: 5000 }).map((n) => 'q'.repeat(n)),
);

function queryString(names: string[]): fc.Arbitrary<string> {
  const known = names.length ? fc.constantFrom(...names) : fc.constant('q');
  const pair = fc.tuple(
    fc.oneof(
      { weight: 4, arbitrary: known },
      { weight: 1, arbitrary: fc.stringMatching(/^[a-z_[\]]{1,12}$/) },
    ),
    queryValue,
  );
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant('') },
    // repeated keys too: a parser may hand an array where a DTO expects a string
    {
      weight: 5,
      arbitrary: fc
        .array(pair, { maxLength: 6 })
        .map((ps) => (ps.length ? '?' + ps.map(([k, v]) => `${k}=${v}`).join('&') : '')),
    },
  );
}

function auth(validKey: string): fc.Arbitrary<Record<string, string>> {
  return fc.oneof(
    { weight: 8, arbitrary: fc.constant({ authorization: `Bearer ${validKey}` }) },
    { weight: 1, arbitrary: fc.constant({}) },
    {
      weight: 2,
      arbitrary: fc
        .oneof(
          fc.constant('Bearer '),
          fc.constant(`Bearer ${validKey}x`),
          fc.constant(`Basic ${Buffer.from('a:b').toString('base64')}`),
          fc.constant('Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.'),
          ascii(80).map((s) => `Bearer atp_${s}`),
          ascii(60),
        )
        .map((v) => ({ authorization: v })),
    },
    { weight: 1, arbitrary: fc.constant({ 'x-api-key': validKey }) },
  );
}

const contentType = fc.oneof(
  { weight: 8, arbitrary: fc.constant('application/json') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-8',
      'APPLICATION/JSON',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/octet-stream',
      'application/json; charset=latin1',
      'x/y;;',
      '',
    ),
  },
  { weight: 1, arbitrary: fc.constant(null) },
);

/** A value that matches a schema (as far as the document describes it). */
function valueFor(s: Schema | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (!s || depth > 4) return fc.jsonValue({ maxDepth: 2 });
  if (s.enum?.length) return fc.constantFrom(...s.enum);
  switch (s.type) {
    case 'string':
      return fc.oneof(
        fc.string({ unit: 'grapheme', maxLength: 40 }),
        fc.constantFrom(
          'llm',
          'memory:read',
          'admin',
          'mock-1',
          'redact',
          'jane@example.com 4111 1111 1111 1111',
        ),
      );
    case 'integer':
      return fc.integer({ min: s.minimum ?? -5, max: Math.min(s.maximum ?? 2000, 1e9) });
    case 'number':
      return fc.double({ min: s.minimum ?? -5, max: s.maximum ?? 2000, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(valueFor(s.items, depth + 1), { maxLength: 4 });
    case 'object': {
      if (!s.properties)
        return fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 });
      const shape: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, v] of Object.entries(s.properties)) shape[k] = valueFor(v, depth + 1);
      return fc.record(shape, { requiredKeys: (s.required ?? []).filter((k) => k in shape) });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

const wrongType = fc.oneof(
  fc.constant(null),
  fc.constant('x'),
  fc.constant(5),
  fc.constant(-1.5),
  fc.constant(true),
  fc.constant([]),
  fc.constant(['x']),
  fc.constant({}),
  fc.constant({ a: 1 }),
  fc.constant(1e308),
);

/** Breaks a valid-shaped object: a field of the wrong type, a field dropped, an unknown field. */
function mutate(base: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc
    .tuple(base, fc.nat(), wrongType, fc.constantFrom('drop', 'wrong', 'extra', 'wrong-nested'))
    .map(([value, i, bad, how]) => {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad;
      const obj = { ...(value as Record<string, unknown>) };
      const keys = Object.keys(obj);
      const k = keys.length ? keys[i % keys.length] : 'field';
      if (how === 'drop') delete obj[k];
      else if (how === 'extra') obj[`extra_${i % 7}`] = bad;
      else if (how === 'wrong-nested' && Array.isArray(obj[k]) && (obj[k] as unknown[]).length)
        obj[k] = (obj[k] as unknown[]).map((v, j) => (j === 0 ? bad : v));
      else obj[k] = bad;
      return obj;
    });
}

function deep(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array'
    ? '['.repeat(depth) + ']'.repeat(depth)
    : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

function bodyText(op: Operation, examples: unknown[]): fc.Arbitrary<string | null> {
  const shaped: fc.Arbitrary<unknown> = examples.length
    ? fc.oneof(fc.constantFrom(...examples), valueFor(op.body ?? undefined))
    : valueFor(op.body ?? undefined);
  const json = (a: fc.Arbitrary<unknown>) => a.map((v) => JSON.stringify(v) ?? 'null');
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant(null) },
    { weight: 6, arbitrary: json(shaped) },
    { weight: 6, arbitrary: json(mutate(shaped)) },
    { weight: 2, arbitrary: json(fc.jsonValue({ maxDepth: 4 })) },
    {
      // a huge string in place of a field
      weight: 1,
      arbitrary: fc
        .tuple(
          shaped,
          fc.integer({ min: 10_000, max: 120_000 }),
          fc.constantFrom('a', '预', '4111 1111 1111 1111 '),
        )
        .map(([v, n, unit]) => {
          const huge = unit.repeat(Math.ceil(n / unit.length));
          if (typeof v !== 'object' || v === null || Array.isArray(v)) return JSON.stringify(huge);
          const obj = { ...(v as Record<string, unknown>) };
          const keys = Object.keys(obj);
          obj[keys.length ? keys[n % keys.length] : 'value'] = huge;
          return JSON.stringify(obj);
        }),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.integer({ min: 50, max: 3000 }), fc.constantFrom('array' as const, 'object' as const))
        .map(([d, k]) => deep(d, k)),
    },
    {
      // __proto__ / constructor.prototype at the top or inside
      weight: 2,
      arbitrary: fc
        .tuple(
          json(shaped),
          fc.constantFrom(
            '"__proto__":{"polluted":1}',
            '"constructor":{"prototype":{"polluted":1}}',
            '"\\u005f_proto__":{}',
          ),
        )
        .map(([text, key]) =>
          text.startsWith('{') && text.length > 2 ? `{${key},${text.slice(1)}` : `{${key}}`,
        ),
    },
    {
      // not JSON at all, or cut short
      weight: 2,
      arbitrary: fc.oneof(
        fc.string({ maxLength: 60 }),
        json(shaped).map((t) => t.slice(0, Math.max(1, Math.floor(t.length / 2)))),
        fc.constantFrom('', ' ', 'null', '[]', '"str"', '{"a":1}{"b":2}', '\u0000', '{"a":NaN}', '{,}'),
      ),
    },
  );
}

/** One arbitrary per operation, built once (building them per request made generation the bottleneck). */
export function requestArbitrary(target: FuzzTarget, ops: Operation[]): fc.Arbitrary<FuzzRequest> {
  return fc.oneof(...ops.map((op) => operationArbitrary(target, op)));
}

function operationArbitrary(target: FuzzTarget, op: Operation): fc.Arbitrary<FuzzRequest> {
  const values = target.pathValues ?? {};
  const path = fc.tuple(...op.pathParams.map((p) => segment(values[p] ?? []))).map((segs) => {
    let p = op.path;
    op.pathParams.forEach((name, i) => (p = p.replace(`{${name}}`, segs[i])));
    return p;
  });
  const method = fc.oneof(
    { weight: 12, arbitrary: fc.constant(op.method) },
    { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD') },
  );
  const examples = target.bodyExamples?.[`${op.method} ${op.path}`] ?? [];
  return fc
    .record({
      method,
      path: op.pathParams.length ? path : fc.constant(op.path),
      query: queryString(op.queryParams),
      auth: auth(target.validKey),
      contentType,
      body:
        op.body || examples.length ? bodyText(op, examples) : fc.option(bodyText(op, examples), { freq: 4 }),
      requestId: fc.option(ascii(80), { freq: 4 }),
    })
    .map(({ method, path, query, auth: a, contentType: ct, body, requestId }) => {
      const headers: Record<string, string> = { ...a };
      if (body !== null && ct !== null) headers['content-type'] = ct;
      if (requestId) headers['x-request-id'] = requestId;
      return {
        method,
        path: path + query,
        headers,
        body: method === 'GET' || method === 'HEAD' ? null : body,
      };
    });
}

// ---- sending and checking ----------------------------------------------------------------

export function send(baseUrl: string, agent: http.Agent, r: FuzzRequest): Promise<FuzzResponse> {
  const url = new URL(baseUrl);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: r.method,
        path: r.path,
        agent,
        headers: r.body !== null ? { ...r.headers, 'content-length': Buffer.byteLength(r.body) } : r.headers,
        timeout: CLIENT_TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            ms: performance.now() - started,
            body: Buffer.concat(chunks).toString('utf8'),
            contentType: String(res.headers['content-type'] ?? ''),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${CLIENT_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    if (r.body !== null) req.write(r.body);
    req.end();
  });
}

/** The Anthropic Messages door (and its count_tokens), whose errors take Anthropic's shape. */
const speaksAnthropic = (path: string) => /^\/v1\/messages(\/|\?|$)/.test(path);

/** What is wrong with a response, or null: no 5xx, no slow answer, every failure in the envelope. */
export function problemWith(r: FuzzRequest, res: FuzzResponse): string | null {
  if (res.status >= 500) return `status ${res.status}`;
  if (res.ms > MAX_RESPONSE_MS) return `took ${Math.round(res.ms)} ms`;
  if (res.status >= 200 && res.status < 300) return null;
  if (r.method === 'HEAD') return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.body);
  } catch {
    return `a ${res.status} whose body is not JSON`;
  }
  const body = parsed as { type?: unknown; error?: Record<string, unknown> } | null;
  const err = body?.error;
  if (!err || typeof err !== 'object') return `a ${res.status} outside the envelope`;
  if (typeof err.message !== 'string' || !err.message) return `a ${res.status} without error.message`;
  if (typeof err.type !== 'string') return `a ${res.status} without error.type`;
  // The Messages door's routes answer in Anthropic's error shape (its OpenAPI says so), which the
  // SDK reads as {"type":"error","error":{"type","message"}}; a method no route has gets ATP's.
  const anthropicShape = speaksAnthropic(r.path) && body?.type === 'error';
  if (!anthropicShape && (!('code' in err) || !('param' in err)))
    return `a ${res.status} without error.code/param`;
  if (!res.contentType.startsWith('application/json')) return `a ${res.status} served as ${res.contentType}`;
  return null;
}

const clip = (s: string | null, n = 300) =>
  s === null ? null : s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s;

/**
 * Samples GET /health every `everyMs` from a child process while the fuzz runs: measured here,
 * the fuzzer's own work (building megabyte bodies) would count as the service's latency.
 */
export function sampleHealth(baseUrl: string, everyMs = 100) {
  const script = `
    const http = require('node:http');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const latencies = [], failures = [];
    let stopped = false;
    const once = () => new Promise((resolve) => {
      const t = performance.now();
      const req = http.get(${JSON.stringify(baseUrl + '/health')}, { agent, timeout: 10000 }, (res) => {
        res.resume();
        res.on('end', () => {
          latencies.push(performance.now() - t);
          if (res.statusCode !== 200) failures.push('/health answered ' + res.statusCode);
          resolve();
        });
      });
      req.on('timeout', () => req.destroy(new Error('no answer in 10 s')));
      req.on('error', (e) => { failures.push('/health failed: ' + e.message); resolve(); });
    });
    (async () => {
      while (!stopped) { await once(); await new Promise((r) => setTimeout(r, ${everyMs})); }
      agent.destroy();
      process.stdout.write(JSON.stringify({ latencies, failures }), () => process.exit(0));
    })();
    process.stdin.on('data', () => (stopped = true));
    process.stdin.resume();`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return {
    async stop() {
      child.stdin.end('stop\n');
      await exited;
      const { latencies, failures } = JSON.parse(
        out || '{"latencies":[],"failures":["sampler gave no report"]}',
      ) as {
        latencies: number[];
        failures: string[];
      };
      const sorted = [...latencies].sort((a, b) => a - b);
      const p = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
      return {
        samples: sorted.length,
        p50: p(0.5),
        p99: p(0.99),
        max: sorted[sorted.length - 1] ?? 0,
        failures,
      };
    },
  };
}

export interface FuzzReport {
  requests: number;
  byStatus: Record<number, number>;
  slowestMs: number;
  health: { samples: number; p50: number; p99: number; max: number; failures: string[] };
}

/** Runs the property: every generated request is answered well. Throws on the first bad answer. */
export async function fuzzService(target: FuzzTarget): Promise<FuzzReport> {
  const ops = operations(target.spec);
  const agent = new http.Agent({ keepAlive: true, maxSockets: BATCH });
  const byStatus: Record<number, number> = {};
  let requests = 0;
  let slowestMs = 0;
  const health = sampleHealth(target.baseUrl);
  let healthReport: FuzzReport['health'] | null = null;
  try {
    // fc.check, not fc.assert: the report is our one-request message, not a batch of megabyte bodies
    const out = await fc.check(
      fc.asyncProperty(
        fc.array(requestArbitrary(target, ops), { minLength: BATCH, maxLength: BATCH }),
        async (batch) => {
          const answers = await Promise.all(
            batch.map((r) => send(target.baseUrl, agent, r).catch((err: Error) => err)),
          );
          batch.forEach((r, i) => {
            const res = answers[i];
            requests++;
            if (res instanceof Error) throw new Error(`${describe(r)}\n→ no answer: ${res.message}`);
            byStatus[res.status] = (byStatus[res.status] ?? 0) + 1;
            slowestMs = Math.max(slowestMs, res.ms);
            const problem = problemWith(r, res);
            if (problem)
              throw new Error(
                `${describe(r)}\n→ ${problem}: ${res.status} ${clip(res.body)} (seed ${FUZZ_SEED})`,
              );
          });
        },
      ),
      { seed: FUZZ_SEED, numRuns: Math.ceil(FUZZ_REQUESTS / BATCH), endOnFailure: true },
    );
    if (out.failed)
      throw new Error((out.errorInstance as Error | undefined)?.message ?? `failed (seed ${FUZZ_SEED})`);
  } finally {
    agent.destroy();
    healthReport = await health.stop();
  }
  return { requests, byStatus, slowestMs, health: healthReport };
}

function describe(r: FuzzRequest): string {
  const headers = { ...r.headers };
  if (headers.authorization) headers.authorization = clip(headers.authorization, 24)!;
  return `${r.method} ${clip(r.path, 200)} ${JSON.stringify(headers)} body=${clip(r.body)}`;
}
