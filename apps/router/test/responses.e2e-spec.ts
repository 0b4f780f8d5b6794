import Ajv from 'ajv';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { AuditService } from '@app/audit';
import type { FakeBehaviour, JsonValue } from '@app/providers/testing';
import { SERVICES_LABEL } from '@app/testing';
import { UsageRecorder } from '../src/usage/usage-recorder';
import { useRouterOnFakes } from './doors/router-on-fakes';
import { tenantWithKey } from './governance-helpers';
import { CODING_AGENT_REQUEST, CODING_AGENT_TOOLS } from './responses-fixtures';

const FAKE_TEXT = 'Hello from the fake upstream.';
const EMAIL = 'jane.doe@example.com';

/** One route over two vendors: a failure of the first before its first byte falls back to the second. */
const ROUTING_YAML = `
routes:
  vendors:
    strategy: ordered
    candidates: [gpt-4o-mini, claude-sonnet-4-5]
`;

interface SseEvent {
  event: string;
  data: JsonValue;
}

/** `event: <type>` / `data: <json>` frames of a Responses stream. */
function parseSse(text: string): SseEvent[] {
  return text
    .split('\n\n')
    .filter((frame) => frame.trim())
    .map((frame) => {
      const event = /^event: (.*)$/m.exec(frame)?.[1] ?? '';
      const data = /^data: (.*)$/m.exec(frame)?.[1] ?? 'null';
      return { event, data: JSON.parse(data) };
    });
}

/**
 * The Responses door through the whole pipeline: fallbacks before the first byte and the door's
 * own error event after it, one usage row and one audit event per call, PII policy on every text
 * a Responses request can carry, bad input as a 400 (never a 500), a coding agent's request to a
 * Claude model, stored responses unreadable in the database, and answers matching the OpenAPI
 * document.
 */
describe(`the Responses door (${SERVICES_LABEL})`, () => {
  const s = useRouterOnFakes({
    env: { ATP_UPSTREAM_TIMEOUT_MS: '400', ATP_REQUEST_DEADLINE_MS: '5000', ATP_RETRIES_PER_CANDIDATE: '0' },
    routing: ROUTING_YAML,
  });
  let ds: DataSource;

  beforeAll(() => {
    ds = s.booted.app.get(DataSource);
  });

  const post = (key: string, body: unknown) =>
    request(s.booted.url)
      .post('/v1/responses')
      .set('authorization', `Bearer ${key}`)
      .send(body as object);

  const param = (n: number) => (ds.options.type === 'postgres' ? `$${n}` : '?');

  async function usageRows(tenantId: string) {
    await s.booted.app.get(UsageRecorder).flush();
    const rows = (await ds.query(
      `SELECT endpoint, status, outcome, provider, model, prompt_tokens, completion_tokens, stream FROM usage_records WHERE tenant_id = ${param(1)} ORDER BY created_at`,
      [tenantId],
    )) as Record<string, unknown>[];
    return rows.map((r) => ({
      ...r,
      status: Number(r.status),
      prompt_tokens: Number(r.prompt_tokens),
      completion_tokens: Number(r.completion_tokens),
      stream: r.stream === true || r.stream === 1,
    }));
  }

  async function auditEvents(tenantId: string) {
    const audit = s.booted.app.get(AuditService);
    await audit.flush();
    return (await audit.list(tenantId, { action: 'responses.create' })).items;
  }

  /** The OpenAI candidate fails with `fault`; the Anthropic one answers. */
  const openaiFails = (fault: FakeBehaviour['fault']) =>
    s.upstream.setBehaviour((req) =>
      req.vendor === 'openai' ? { fault } : { usage: { prompt: 9, completion: 4 } },
    );

  describe.each([
    ['429', { type: 'status', status: 429, retryAfter: '0' }],
    ['500', { type: 'status', status: 500 }],
    ['a timeout before headers', { type: 'stall-before-headers' }],
  ] as const)('the first vendor answers %s before the first byte', (_name, fault) => {
    it('JSON: the route falls back to the next vendor; one usage row, one audit event', async () => {
      const { tenantId, key } = await tenantWithKey(s.booted);
      openaiFails(fault);
      const res = await post(key, { model: 'vendors', input: 'hi', store: false }).expect(200);
      expect(res.headers['x-atp-provider']).toBe('anthropic');
      expect(res.headers['x-atp-attempts']).toBe('2');
      expect(res.body).toMatchObject({ status: 'completed', model: 'claude-sonnet-4-5' });
      expect(res.body.output[0].content[0].text).toBe(FAKE_TEXT);
      expect(s.upstream.requests.map((r) => r.vendor)).toEqual(['openai', 'anthropic']);
      expect(await usageRows(tenantId)).toEqual([
        expect.objectContaining({
          endpoint: 'responses',
          status: 200,
          outcome: 'ok',
          provider: 'anthropic',
          prompt_tokens: 9,
          completion_tokens: 4,
        }),
      ]);
      expect(await auditEvents(tenantId)).toHaveLength(1);
    });

    it('stream: the same fallback, then the whole event sequence from the second vendor', async () => {
      const { tenantId, key } = await tenantWithKey(s.booted);
      openaiFails(fault);
      const res = await post(key, { model: 'vendors', input: 'hi', stream: true, store: false }).expect(200);
      expect(res.headers['content-type']).toContain('text/event-stream');
      expect(res.headers['x-atp-provider']).toBe('anthropic');
      const events = parseSse(res.text);
      expect(events[0].event).toBe('response.created');
      expect(events[events.length - 1].event).toBe('response.completed');
      expect(events.every((e) => e.event === e.data.type)).toBe(true);
      expect(events[events.length - 1].data.response.usage).toMatchObject({
        input_tokens: 9,
        output_tokens: 4,
      });
      expect(await usageRows(tenantId)).toEqual([
        expect.objectContaining({ endpoint: 'responses', status: 200, provider: 'anthropic', stream: true }),
      ]);
    });
  });

  it.each([
    ['cut without a terminator', { type: 'cut-stream', afterChunks: 3 }],
    ['reset', { type: 'reset-mid-stream', afterChunks: 3 }],
    ['an error event', { type: 'error-event', afterChunks: 3 }],
  ] as const)(
    'a stream %s after its first byte ends with response.failed (no completed), is billed in a usage row and not stored',
    async (_name, fault) => {
      const { tenantId, key } = await tenantWithKey(s.booted);
      s.upstream.setBehaviour({ fault, text: 'one two three four five six seven' });
      const res = await post(key, { model: 'gpt-4o-mini', input: 'count', stream: true }).expect(200);
      const events = parseSse(res.text);
      const last = events[events.length - 1];
      expect(last.event).toBe('response.failed');
      expect(last.data.response.status).toBe('failed');
      expect(last.data.response.error.message).toMatch(/Stream interrupted/);
      expect(last.data.response.output[0]).toMatchObject({ type: 'message', status: 'incomplete' });
      expect(events.some((e) => e.event === 'response.completed')).toBe(false);
      expect(events.map((e) => e.data.sequence_number)).toEqual(events.map((_, i) => i));
      const rows = await usageRows(tenantId);
      expect(rows).toEqual([
        expect.objectContaining({ endpoint: 'responses', status: 502, outcome: 'error' }),
      ]);
      expect(rows[0].completion_tokens).toBeGreaterThan(0);
      const id = events[0].data.response.id as string;
      await request(s.booted.url)
        .get(`/v1/responses/${id}`)
        .set('authorization', `Bearer ${key}`)
        .expect(404);
    },
  );

  it.each<[string, unknown, string | null]>([
    ['an array body', [1, 2], null],
    ['no model', { input: 'x' }, 'model'],
    ['a numeric model', { model: 7, input: 'x' }, 'model'],
    ['input as an object', { model: 'gpt-4o-mini', input: { role: 'user' } }, 'input'],
    ['an item without content', { model: 'gpt-4o-mini', input: [{ role: 'user' }] }, 'input[0].content'],
    [
      'a part of an unknown type',
      { model: 'gpt-4o-mini', input: [{ role: 'user', content: [{ type: 'audio' }] }] },
      'input[0].content[0].type',
    ],
    [
      'a function output answering nothing',
      { model: 'gpt-4o-mini', input: [{ type: 'function_call_output', call_id: 'c', output: 'x' }] },
      'input[0].call_id',
    ],
    ['tools as a string', { model: 'gpt-4o-mini', input: 'x', tools: 'all' }, 'tools'],
    [
      'a hosted tool',
      { model: 'gpt-4o-mini', input: 'x', tools: [{ type: 'code_interpreter' }] },
      'tools[0].type',
    ],
    [
      'a negative max_output_tokens',
      { model: 'gpt-4o-mini', input: 'x', max_output_tokens: -1 },
      'max_output_tokens',
    ],
    ['store as a string', { model: 'gpt-4o-mini', input: 'x', store: 'yes' }, 'store'],
    ['background: true', { model: 'gpt-4o-mini', input: 'x', background: true }, 'background'],
    [
      'a huge nested input',
      {
        model: 'gpt-4o-mini',
        input: [{ role: 'user', content: [{ type: 'input_text', text: { a: [[[[1]]]] } }] }],
      },
      'input[0].content[0].text',
    ],
  ])(
    'bad input (%s) is a 400 in the envelope naming the field, never a 500',
    async (_name, body, expected) => {
      const { key } = await tenantWithKey(s.booted);
      const res = await post(key, body);
      expect(res.status).toBe(400);
      expect(res.body.error).toEqual(
        expect.objectContaining({ type: 'invalid_request_error', param: expected }),
      );
      expect(s.upstream.requests).toHaveLength(0);
    },
  );

  it('unknown model → 404; unknown previous_response_id → 404 naming it; neither reaches a vendor', async () => {
    const { key } = await tenantWithKey(s.booted);
    const model = await post(key, { model: 'no-such-model', input: 'x' }).expect(404);
    expect(model.body.error.code).toBe('model_not_found');
    const previous = await post(key, {
      model: 'gpt-4o-mini',
      input: 'x',
      previous_response_id: 'resp_nope',
    }).expect(404);
    expect(previous.body.error).toEqual({
      message: "Previous response with id 'resp_nope' not found.",
      type: 'not_found_error',
      code: 'previous_response_not_found',
      param: 'previous_response_id',
    });
    expect(s.upstream.requests).toHaveLength(0);
  });

  it('one usage row and one audit event per call (JSON and stream), with no prompt or answer text in the audit', async () => {
    const { tenantId, key } = await tenantWithKey(s.booted);
    s.upstream.setBehaviour({ usage: { prompt: 7, completion: 3 } });
    await post(key, { model: 'gpt-4o-mini', input: 'secret recipe' }).expect(200);
    await post(key, { model: 'gpt-4o-mini', input: 'secret recipe', stream: true }).expect(200);
    const rows = await usageRows(tenantId);
    expect(rows).toEqual([
      expect.objectContaining({
        endpoint: 'responses',
        status: 200,
        prompt_tokens: 7,
        completion_tokens: 3,
        stream: false,
      }),
      expect.objectContaining({
        endpoint: 'responses',
        status: 200,
        prompt_tokens: 7,
        completion_tokens: 3,
        stream: true,
      }),
    ]);
    const events = await auditEvents(tenantId);
    expect(events).toHaveLength(2);
    expect(events.every((e) => e.outcome === 'success' && e.resource_id?.includes('prompt_tokens=7'))).toBe(
      true,
    );
    const all = JSON.stringify(await s.booted.app.get(AuditService).list(tenantId));
    expect(all).not.toContain('secret recipe');
    expect(all).not.toContain(FAKE_TEXT);
  });

  it('PII redact reaches every text a Responses request carries: instructions, input parts, function outputs; block refuses', async () => {
    const redact = await tenantWithKey(s.booted, { piiMode: 'redact' });
    const res = await post(redact.key, {
      model: 'claude-sonnet-4-5',
      instructions: `Reply to ${EMAIL}`,
      input: [
        { role: 'user', content: [{ type: 'input_text', text: `I am ${EMAIL}` }] },
        { type: 'function_call', call_id: 'call_1', name: 'lookup', arguments: '{}' },
        { type: 'function_call_output', call_id: 'call_1', output: `found ${EMAIL}` },
      ],
    }).expect(200);
    expect(res.headers['x-atp-pii']).toBe('redacted');
    const sent = JSON.stringify(s.upstream.requests[0].body);
    expect(sent).not.toContain(EMAIL);
    expect(sent.match(/<EMAIL>/g)).toHaveLength(3);
    const block = await tenantWithKey(s.booted, { piiMode: 'block' });
    const refused = await post(block.key, {
      model: 'gpt-4o-mini',
      input: [
        { role: 'user', content: 'look it up' },
        { type: 'function_call', call_id: 'call_1', name: 'lookup', arguments: '{}' },
        { type: 'function_call_output', call_id: 'call_1', output: [{ type: 'input_text', text: EMAIL }] },
      ],
    }).expect(422);
    expect(refused.body.error.code).toBe('pii_blocked');
    expect(s.upstream.requests).toHaveLength(1);
  });

  it("a coding agent's request (instructions, 12 nested tools, tool history, stream, reasoning) to a Claude model", async () => {
    const { tenantId, key } = await tenantWithKey(s.booted);
    s.upstream.setBehaviour({ followSchemas: true, usage: { prompt: 1200, completion: 40 } });
    const res = await post(key, CODING_AGENT_REQUEST).expect(200);
    const events = parseSse(res.text);
    const done = events[events.length - 1];
    expect(done.event).toBe('response.completed');
    // Under `auto` after a user turn, the fake model calls the first tool, with arguments valid for its schema.
    const call = done.data.response.output.find((o: JsonValue) => o.type === 'function_call');
    expect(call.name).toBe(CODING_AGENT_TOOLS[0].name);
    expect(JSON.parse(call.arguments)).toEqual(expect.objectContaining({ path: expect.any(String) }));
    expect(events.filter((e) => e.event === 'response.function_call_arguments.delta').length).toBeGreaterThan(
      0,
    );

    const sent = s.upstream.requests[0];
    expect(sent.vendor).toBe('anthropic');
    expect(sent.operation).toBe('stream');
    expect(sent.body.system).toContain('You are a coding agent');
    // Every tool with its nested schema, unchanged.
    expect(sent.body.tools.map((t: JsonValue) => [t.name, t.input_schema])).toEqual(
      CODING_AGENT_TOOLS.map((t) => [t.name, t.parameters]),
    );
    // The history as Claude needs it: alternating turns, tool_use ids answered by tool_result ids.
    const roles = sent.body.messages.map((m: JsonValue) => m.role);
    expect(roles).toEqual(['user', 'assistant', 'user', 'assistant', 'user', 'assistant', 'user']);
    const uses = sent.body.messages
      .flatMap((m: JsonValue) => m.content)
      .filter((b: JsonValue) => b.type === 'tool_use');
    const results = sent.body.messages
      .flatMap((m: JsonValue) => m.content)
      .filter((b: JsonValue) => b.type === 'tool_result');
    expect(uses.map((u: JsonValue) => u.id)).toEqual(['call_read', 'call_edit', 'call_test']);
    expect(results.map((r: JsonValue) => r.tool_use_id)).toEqual(['call_read', 'call_edit', 'call_test']);
    expect(uses[1].input).toEqual({ path: 'src/app.ts', edits: [{ find: 'a', replace: 'b' }] });

    expect(await usageRows(tenantId)).toEqual([
      expect.objectContaining({
        endpoint: 'responses',
        status: 200,
        provider: 'anthropic',
        prompt_tokens: 1200,
        completion_tokens: 40,
        stream: true,
      }),
    ]);
    expect(await auditEvents(tenantId)).toHaveLength(1);
  });

  it('GET /v1/models says which doors reach each model: every chat model all three, whatever its vendor', async () => {
    const { key } = await tenantWithKey(s.booted);
    const list = await request(s.booted.url)
      .get('/v1/models')
      .set('authorization', `Bearer ${key}`)
      .expect(200);
    const doors = (id: string) => list.body.data.find((m: JsonValue) => m.id === id)?.doors;
    for (const id of ['gpt-4o-mini', 'claude-sonnet-4-5', 'gemini-2.5-flash', 'vendors', 'auto']) {
      expect([id, doors(id)]).toEqual([id, ['chat', 'responses', 'messages']]);
    }
    expect(doors('text-embedding-3-small')).toEqual(['embeddings']);
    const one = await request(s.booted.url)
      .get('/v1/models/anthropic/claude-sonnet-4-5')
      .set('authorization', `Bearer ${key}`)
      .expect(200);
    expect(one.body.doors).toEqual(['chat', 'responses', 'messages']);
  });

  it('a stored response is one ciphertext in the database: no prompt, answer or tool name readable', async () => {
    const { tenantId, key } = await tenantWithKey(s.booted);
    const res = await post(key, {
      model: 'gpt-4o-mini',
      input: 'the purple elephant sings',
      metadata: { topic: 'zoo' },
    }).expect(200);
    const rows = (await ds.query(`SELECT * FROM stored_responses WHERE tenant_id = ${param(1)}`, [
      tenantId,
    ])) as Record<string, unknown>[];
    expect(rows).toHaveLength(1);
    expect(rows[0].id).toBe(res.body.id);
    const raw = JSON.stringify(rows[0]) + Buffer.from(rows[0].ciphertext as Uint8Array).toString('latin1');
    for (const plain of ['purple elephant', FAKE_TEXT, 'zoo', 'output_text'])
      expect(raw).not.toContain(plain);
  });

  it('answers and events match the OpenAPI document', async () => {
    const { key } = await tenantWithKey(s.booted);
    const spec = (await request(s.booted.url).get('/openapi.json').expect(200)).body;
    const ajv = new Ajv({ strict: false, allErrors: true });
    const check = (component: string, value: unknown) => {
      const validate = ajv.compile({
        $ref: `#/components/schemas/${component}`,
        components: spec.components,
      });
      return validate(value) ? '' : ajv.errorsText(validate.errors);
    };
    expect(spec.paths['/v1/responses'].post.requestBody.content['application/json'].schema.$ref).toBe(
      '#/components/schemas/CreateResponseRequest',
    );
    expect(spec.paths['/v1/responses/{id}'].get).toBeDefined();
    expect(spec.paths['/v1/responses/{id}'].delete).toBeDefined();
    s.upstream.setBehaviour({ followSchemas: true });
    const plain = await post(key, { model: 'gpt-4o-mini', input: 'hi', metadata: { a: 'b' } }).expect(200);
    expect(check('ResponseObject', plain.body)).toBe('');
    const tools = await post(key, {
      model: 'claude-sonnet-4-5',
      input: 'weather?',
      tools: [CODING_AGENT_TOOLS[0]],
      tool_choice: 'required',
    }).expect(200);
    expect(tools.body.output[0].type).toBe('function_call');
    expect(check('ResponseObject', tools.body)).toBe('');
    const got = await request(s.booted.url)
      .get(`/v1/responses/${tools.body.id}`)
      .set('authorization', `Bearer ${key}`)
      .expect(200);
    expect(check('ResponseObject', got.body)).toBe('');
    const deleted = await request(s.booted.url)
      .delete(`/v1/responses/${tools.body.id}`)
      .set('authorization', `Bearer ${key}`)
      .expect(200);
    expect(check('DeletedResponse', deleted.body)).toBe('');
    const streamed = await post(key, { model: 'gpt-4o-mini', input: 'hi', stream: true }).expect(200);
    for (const e of parseSse(streamed.text)) expect(check('ResponseStreamEvent', e.data)).toBe('');
    const bad = await post(key, { model: 'gpt-4o-mini' }).expect(400);
    expect(check('ErrorResponse', bad.body)).toBe('');
  });
});
