import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { fakeVector } from '@app/providers/testing';
import { bootApp, type BootedApp, createTestEnv, SERVICES_LABEL, type TestEnv } from '@app/testing';
import { expectError } from '../../../test/auth-helpers';
import { AppModule } from '../src/app.module';
import { UsageRecorder } from '../src/usage/usage-recorder';
import {
  type FakeUpstream,
  startFakeUpstream,
  tenantWithKey,
  upstreamEnv,
  writeRoutingConfig,
} from './governance-helpers';

/** The SSE `data:` payloads of a stream body, parsed (without the [DONE] terminator). */
function chunksOf(text: string): { choices: { index: number }[]; usage?: unknown }[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('data: {'))
    .map((l) => JSON.parse(l.slice(6)));
}

/** OpenAI's base64 embedding: little-endian float32 bytes. */
function decodeBase64Floats(b64: string): number[] {
  const buf = Buffer.from(b64, 'base64');
  const out: number[] = [];
  for (let i = 0; i < buf.length; i += 4) out.push(buf.readFloatLE(i));
  return out;
}

/**
 * The OpenAI wire details clients rely on (issue 14): the stream usage chunk only on request,
 * base64 embeddings, embedding limits and `dimensions`, GET /v1/models/{id}, `x-api-key`, `n`.
 */
describe(`router OpenAI wire compatibility (${SERVICES_LABEL})`, () => {
  let upstream: FakeUpstream;
  let testEnv: TestEnv;
  let booted: BootedApp;
  let key: string;
  let tenantId: string;
  let configDir: string;

  const post = (path: string, body: object) =>
    request(booted.url).post(path).set('authorization', `Bearer ${key}`).send(body);

  async function usageRows(endpoint: string) {
    await booted.app.get(UsageRecorder).flush();
    const ds = booted.app.get(DataSource);
    const p = ds.options.type === 'postgres' ? '$1' : '?';
    const rows = (await ds.query(
      `SELECT model, prompt_tokens, completion_tokens, cost_usd, status, stream FROM usage_records
       WHERE tenant_id = ${p} AND endpoint = '${endpoint}' ORDER BY created_at`,
      [tenantId],
    )) as Record<string, unknown>[];
    return rows.map((r) => ({
      model: r.model,
      prompt: Number(r.prompt_tokens),
      completion: Number(r.completion_tokens),
      cost: Number(r.cost_usd),
      status: Number(r.status),
      stream: r.stream === true || r.stream === 1,
    }));
  }

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    configDir = mkdtempSync(join(tmpdir(), 'atp-wire-'));
    testEnv = await createTestEnv({
      ...upstreamEnv(upstream),
      ATP_ROUTING_CONFIG: writeRoutingConfig(configDir), // budget-model: exact worst-case costs
    });
    booted = await bootApp('router', AppModule, testEnv.env);
    ({ key, tenantId } = await tenantWithKey(booted));
  });
  beforeEach(() => upstream.reset());
  afterAll(async () => {
    await booted?.close();
    await upstream?.close();
    await testEnv?.cleanup();
    if (configDir) rmSync(configDir, { recursive: true, force: true });
  });

  describe('stream usage chunk', () => {
    it.each(['gpt-4o-mini', 'claude-sonnet-4-5', 'gemini-2.5-flash'])(
      '%s: no `choices: []` chunk without include_usage, yet the usage row is recorded',
      async (model) => {
        const before = (await usageRows('chat')).length;
        const res = await post('/v1/chat/completions', {
          model,
          stream: true,
          messages: [{ role: 'user', content: 'Say hello' }],
        }).expect(200);
        const chunks = chunksOf(res.text);
        expect(chunks.length).toBeGreaterThan(1);
        // The loop most clients write, `chunk.choices[0].delta`, must never meet an empty list.
        expect(chunks.filter((c) => c.choices.length === 0)).toEqual([]);
        expect(chunks.filter((c) => c.usage)).toEqual([]);
        expect(res.text.trim().endsWith('data: [DONE]')).toBe(true);
        const rows = await usageRows('chat');
        expect(rows).toHaveLength(before + 1);
        const row = rows[rows.length - 1];
        expect(row).toMatchObject({ model, status: 200, stream: true });
        expect(row.prompt).toBeGreaterThan(0);
        expect(row.completion).toBe(5); // the fake reports one token per word of its 5-word reply
      },
    );

    it('with include_usage the last chunk has `choices: []` and the usage', async () => {
      const res = await post('/v1/chat/completions', {
        model: 'claude-sonnet-4-5',
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: 'Say hello' }],
      }).expect(200);
      const chunks = chunksOf(res.text);
      const last = chunks[chunks.length - 1] as { choices: unknown[]; usage: Record<string, number> };
      expect(last.choices).toEqual([]);
      expect(last.usage).toMatchObject({ completion_tokens: 5 });
      expect(chunks.slice(0, -1).every((c) => c.choices.length > 0)).toBe(true);
    });

    it('a cached answer replayed as a stream follows the same rule', async () => {
      const body = {
        model: 'gpt-4o-mini',
        stream: true,
        messages: [{ role: 'user', content: `replay ${Date.now()}` }],
      };
      const send = (b: object) =>
        request(booted.url)
          .post('/v1/chat/completions')
          .set('authorization', `Bearer ${key}`)
          .set('x-atp-cache-ttl', '60')
          .send(b);
      await send(body).expect(200);
      await new Promise((r) => setTimeout(r, 50)); // the cache is written off the response path
      const hit = await send(body).expect(200);
      expect(hit.headers['x-atp-cache']).toBe('hit');
      expect(chunksOf(hit.text).filter((c) => c.choices.length === 0)).toEqual([]);
      const withUsage = await send({ ...body, stream_options: { include_usage: true } }).expect(200);
      expect(withUsage.headers['x-atp-cache']).toBe('hit');
      expect(chunksOf(withUsage.text).filter((c) => c.choices.length === 0)).toHaveLength(1);
    });
  });

  describe('embeddings', () => {
    it.each([
      ['text-embedding-3-small', 'openai'],
      ['text-embedding-004', 'google'],
    ])('%s: encoding_format base64 is little-endian float32 of the upstream values', async (model) => {
      const res = await post('/v1/embeddings', {
        model,
        input: ['alpha', 'beta'],
        encoding_format: 'base64',
      }).expect(200);
      expect(res.body.data).toHaveLength(2);
      for (const [i, text] of ['alpha', 'beta'].entries()) {
        expect(typeof res.body.data[i].embedding).toBe('string');
        expect(decodeBase64Floats(res.body.data[i].embedding)).toEqual(
          fakeVector(text, 8).map((v) => Math.fround(v)),
        );
      }
      const floats = await post('/v1/embeddings', { model, input: 'alpha', encoding_format: 'float' });
      expect(floats.body.data[0].embedding).toEqual(fakeVector('alpha', 8));
      // The upstream is always asked for floats (Gemini has no encoding_format at all).
      for (const r of upstream.requests) expect(r.body.encoding_format ?? 'float').toBe('float');
    });

    it('a bad encoding_format is a 400 naming it', async () => {
      const res = await post('/v1/embeddings', {
        model: 'text-embedding-3-small',
        input: 'x',
        encoding_format: 'int8',
      });
      expectError(res, 400, 'invalid_request');
      expect(res.body.error.param).toBe('encoding_format');
      expect(res.body.error.message).toMatch(/float.*base64/);
    });

    it('input: at most 2048 items, no empty strings, per-input and total token limits', async () => {
      const many = await post('/v1/embeddings', {
        model: 'text-embedding-3-small',
        input: Array.from({ length: 2049 }, (_, i) => `t${i}`),
      });
      expectError(many, 400, 'invalid_request');
      expect(many.body.error.param).toBe('input');
      expect(many.body.error.message).toMatch(/2048/);
      await post('/v1/embeddings', {
        model: 'text-embedding-3-small',
        input: Array.from({ length: 2048 }, (_, i) => `t${i}`),
      }).expect(200);

      const empty = await post('/v1/embeddings', { model: 'text-embedding-3-small', input: ['a', ''] });
      expectError(empty, 400, 'invalid_request');
      expect(empty.body.error.param).toBe('input');

      // text-embedding-004 takes 2048 tokens per input; ~12k tokens (4 chars each) is too long.
      const long = await post('/v1/embeddings', {
        model: 'text-embedding-004',
        input: 'word '.repeat(10_000),
      });
      expectError(long, 400, 'invalid_request');
      expect(long.body.error.param).toBe('input');
      expect(long.body.error.message).toMatch(/input\[0\].*2048/);

      // 2000 inputs of ~200 tokens: each fits, the sum (~400k) is over the 300k per request.
      const total = await post('/v1/embeddings', {
        model: 'text-embedding-3-small',
        input: Array.from({ length: 2000 }, (_, i) => `${i} ${'abcd'.repeat(200)}`),
      });
      expectError(total, 400, 'invalid_request');
      expect(total.body.error.param).toBe('input');
      expect(total.body.error.message).toMatch(/300000/);
      expect(upstream.requests).toHaveLength(1); // only the 2048-item request went upstream
    });

    it('dimensions: forwarded where the model supports it, a 400 naming it where not', async () => {
      const openai = await post('/v1/embeddings', {
        model: 'text-embedding-3-small',
        input: 'x',
        dimensions: 16,
      }).expect(200);
      expect(openai.body.data[0].embedding).toHaveLength(16);
      expect(upstream.requests[0].body.dimensions).toBe(16);

      const google = await post('/v1/embeddings', {
        model: 'text-embedding-004',
        input: 'x',
        dimensions: 12,
      }).expect(200);
      expect(google.body.data[0].embedding).toHaveLength(12);
      expect(upstream.requests[1].body.outputDimensionality).toBe(12);
      const gemini = await post('/v1/embeddings', {
        model: 'gemini-embedding-001',
        input: ['x', 'y'],
        dimensions: 256,
      }).expect(200);
      expect(gemini.body.data.map((d: { embedding: number[] }) => d.embedding.length)).toEqual([256, 256]);
      expect(upstream.requests[2].body.requests[1].outputDimensionality).toBe(256);
      const geminiSmall = await post('/v1/embeddings', {
        model: 'gemini-embedding-001',
        input: 'x',
        dimensions: 64,
      });
      expectError(geminiSmall, 400, 'invalid_request');
      expect(geminiSmall.body.error.message).toMatch(/128\.\.3072/);

      const tooMany = await post('/v1/embeddings', {
        model: 'text-embedding-3-small',
        input: 'x',
        dimensions: 4096,
      });
      expectError(tooMany, 400, 'invalid_request');
      expect(tooMany.body.error.param).toBe('dimensions');
      expect(tooMany.body.error.message).toMatch(/1536/);

      const unsupported = await post('/v1/embeddings', {
        model: 'openai/text-embedding-ada-002',
        input: 'x',
        dimensions: 256,
      });
      expectError(unsupported, 400, 'invalid_request');
      expect(unsupported.body.error.param).toBe('dimensions');
      expect(unsupported.body.error.message).toMatch(/text-embedding-ada-002/);
      expect(upstream.requests).toHaveLength(3);
    });
  });

  describe('GET /v1/models/{id}', () => {
    const get = (id: string, auth = `Bearer ${key}`) =>
      request(booted.url).get(`/v1/models/${id}`).set('authorization', auth);

    it('returns the OpenAI model object for catalog ids, aliases and provider-qualified ids', async () => {
      const res = await get('gpt-4o-mini').expect(200);
      expect(res.body).toEqual(
        expect.objectContaining({ id: 'gpt-4o-mini', object: 'model', owned_by: 'openai' }),
      );
      expect(typeof res.body.created).toBe('number');
      expect((await get('best').expect(200)).body).toMatchObject({ id: 'best', owned_by: 'atp' });
      for (const path of ['anthropic/claude-sonnet-4-5', 'anthropic%2Fclaude-sonnet-4-5']) {
        const q = await get(path).expect(200);
        expect(q.body).toMatchObject({ id: 'anthropic/claude-sonnet-4-5', owned_by: 'anthropic' });
      }
    });

    it('is in the OpenAPI document with its one path parameter', async () => {
      const doc = (await request(booted.url).get('/openapi.json').expect(200)).body;
      const op = doc.paths['/v1/models/{path}'].get;
      expect(op.parameters.map((p: { name: string; in: string }) => [p.name, p.in])).toEqual([
        ['path', 'path'],
      ]);
      expect(Object.keys(op.responses)).toContain('404');
    });

    it('404 in the envelope for unknown ids and ids the caller may not use', async () => {
      for (const id of ['no-such-model', 'anthropic/no-such-model', 'nobody/gpt-4o-mini', 'a/b/c']) {
        const res = await get(id);
        expectError(res, 404, 'model_not_found');
        expect(res.body.error.param).toBe('model');
      }
      const limited = await tenantWithKey(booted, { allowedModels: ['gpt-4o-mini'] });
      await get('gpt-4o-mini', `Bearer ${limited.key}`).expect(200);
      expectError(await get('gpt-4o', `Bearer ${limited.key}`), 404, 'model_not_found');
      expectError(await request(booted.url).get('/v1/models/gpt-4o-mini'), 401, 'missing_credential');
    });
  });

  describe('x-api-key', () => {
    it('is accepted as the credential, alone or with the same Bearer; different ones are a 401', async () => {
      const alone = await request(booted.url).get('/v1/models').set('x-api-key', key).expect(200);
      expect(alone.body.data.length).toBeGreaterThan(0);
      await request(booted.url)
        .post('/v1/chat/completions')
        .set('x-api-key', key)
        .send({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
        .expect(200);
      await request(booted.url)
        .get('/v1/models')
        .set('x-api-key', key)
        .set('authorization', `Bearer ${key}`)
        .expect(200);
      const other = await tenantWithKey(booted);
      const both = await request(booted.url)
        .get('/v1/models')
        .set('x-api-key', key)
        .set('authorization', `Bearer ${other.key}`);
      expectError(both, 401, 'conflicting_credentials');
      expectError(
        await request(booted.url).get('/v1/models').set('x-api-key', 'atp_not-a-real-key'),
        401,
        'invalid_api_key',
      );
      expectError(
        await request(booted.url).get('/v1/models').set('x-api-key', 'two words'),
        401,
        'invalid_api_key_header',
      );
      for (const line of booted.logs) expect(line).not.toContain(key);
    });
  });

  describe('n > 1', () => {
    const ask = (model: string, n: number, extra: Record<string, unknown> = {}) =>
      post('/v1/chat/completions', {
        model,
        n,
        messages: [{ role: 'user', content: 'Say hello' }],
        ...extra,
      });

    it('OpenAI gets n natively: one upstream call, its choices as they come', async () => {
      upstream.setBehaviour({ text: 'Hi there' });
      const res = await ask('gpt-4o-mini', 3).expect(200);
      expect(upstream.requests).toHaveLength(1);
      expect(upstream.requests[0].body.n).toBe(3);
      // The fake answers one choice whatever n is; the router passes OpenAI's answer through.
      expect(res.body.choices[0]).toMatchObject({ index: 0, message: { content: 'Hi there' } });
    });

    it.each(['claude-sonnet-4-5', 'gemini-2.5-flash'])(
      '%s: n parallel calls, choices indexed 0..n-1, usage and cost summed into one row',
      async (model) => {
        upstream.setBehaviour({ usage: { prompt: 10, completion: 4 } });
        const before = (await usageRows('chat')).length;
        const res = await ask(model, 3).expect(200);
        expect(upstream.requests).toHaveLength(3);
        for (const r of upstream.requests) expect(r.body.n ?? r.body.candidateCount).toBeUndefined();
        expect(res.body.choices.map((c: { index: number }) => c.index)).toEqual([0, 1, 2]);
        for (const c of res.body.choices) expect(c.message.content).toBe('Hello from the fake upstream.');
        expect(res.body.usage).toMatchObject({ prompt_tokens: 30, completion_tokens: 12, total_tokens: 42 });
        const rows = await usageRows('chat');
        expect(rows).toHaveLength(before + 1);
        expect(rows[rows.length - 1]).toMatchObject({ model, prompt: 30, completion: 12 });
        expect(Number(res.headers['x-atp-cost-usd'])).toBeCloseTo(rows[rows.length - 1].cost, 8);
        expect(rows[rows.length - 1].cost).toBeGreaterThan(0);
      },
    );

    it('the budget reserves n times the worst case', async () => {
      // budget-model reserves $0.02 a call (2 output tokens at $0.01): $0.05 covers n = 2, not n = 3.
      const budgeted = await tenantWithKey(booted, { monthlyBudgetUsd: 0.05 });
      const send = (n: number) =>
        request(booted.url)
          .post('/v1/chat/completions')
          .set('authorization', `Bearer ${budgeted.key}`)
          .send({ model: 'budget-model', n, messages: [{ role: 'user', content: 'hi' }] });
      expectError(await send(3), 429, 'budget_exceeded');
      expect(upstream.requests).toHaveLength(0);
      upstream.setBehaviour({ usage: { prompt: 0, completion: 1 } });
      await send(2).expect(200);
      expect(upstream.requests[0].body.n).toBe(2);
    });

    it('n above 8, n with stream, and n that is not a positive integer are 400s naming n', async () => {
      for (const [n, extra] of [
        [9, {}],
        [2, { stream: true }],
        [0, {}],
        [1.5, {}],
      ] as const) {
        const res = await ask('claude-sonnet-4-5', n, extra);
        expectError(res, 400, 'invalid_request');
        expect(res.body.error.param).toBe('n');
      }
      expect(upstream.requests).toHaveLength(0);
      await ask('claude-sonnet-4-5', 1).expect(200);
    });
  });
});
