import Anthropic from '@anthropic-ai/sdk';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { AuditService } from '@app/audit';
import { ApiKeyService, TenantService } from '@app/auth';
import { sampleFromSchema } from '@app/providers/testing';
import { SERVICES_LABEL } from '@app/testing';
import { UsageRecorder } from '../src/usage/usage-recorder';
import { AGENT_TOOLS, codingAgentRequest } from './doors/coding-agent';
import { useRouterOnFakes } from './doors/router-on-fakes';
import { ACTOR, tenantWithKey } from './governance-helpers';

const THOUGHT = 'The empty input case returns a list with one empty string.';
/** The fakes' usage: 100 uncached prompt tokens, 4,000 read from the prompt cache, 1,000 written to it. */
const USAGE = { prompt: 100, completion: 50, cacheRead: 4000, cacheWrite: 1000 };

interface UsageRow {
  endpoint: string;
  model: string;
  status: number;
  prompt_tokens: number;
  completion_tokens: number;
  cost_usd: number;
}

/**
 * The Messages door end to end: a coding agent's streamed turn to a Claude and to a GPT model
 * (what each vendor received, one usage row and one audit event per call, prompt-cache tokens at
 * their prices), and every error on the door in Anthropic's shape.
 */
describe(`POST /v1/messages (${SERVICES_LABEL})`, () => {
  const s = useRouterOnFakes({ behaviour: { followSchemas: true } });

  const client = (key: string) =>
    new Anthropic({ apiKey: key, baseURL: s.booted.url, maxRetries: 0, timeout: 15_000 });

  /**
   * The call was recorded exactly once — one usage row (the door's, with `row`'s fields) and one
   * `messages.create` audit event — and cost `costUsd`.
   */
  async function expectOneRecord(tenantId: string, row: Partial<UsageRow>, costUsd: number): Promise<void> {
    await s.booted.app.get(UsageRecorder).flush();
    const audit = s.booted.app.get(AuditService);
    await audit.flush();
    expect((await audit.list(tenantId, { action: 'messages.create' })).items).toHaveLength(1);
    const ds = s.booted.app.get(DataSource);
    const rows = (await ds.query(
      `SELECT endpoint, model, status, prompt_tokens, completion_tokens, cost_usd FROM usage_records WHERE tenant_id = ${ds.options.type === 'postgres' ? '$1' : '?'}`,
      [tenantId],
    )) as UsageRow[];
    expect(
      rows.map((r) => ({
        ...r,
        status: Number(r.status),
        prompt_tokens: Number(r.prompt_tokens),
        completion_tokens: Number(r.completion_tokens),
        cost_usd: Number(r.cost_usd),
      })),
    ).toEqual([{ endpoint: 'messages', status: 200, ...row, cost_usd: expect.closeTo(costUsd, 9) }]);
  }

  it('a coding agent turn to Claude: nothing lost on the way, thinking streamed back, cache tokens priced', async () => {
    const { tenantId, key } = await tenantWithKey(s.booted);
    s.upstream.setBehaviour({ followSchemas: true, usage: USAGE, thinking: THOUGHT });
    const final = await client(key)
      .messages.stream(codingAgentRequest('claude-sonnet-4-5', true))
      .finalMessage();

    const body = s.upstream.requests[0].body;
    expect(s.upstream.requests).toHaveLength(1);
    const req = codingAgentRequest('claude-sonnet-4-5', true);
    expect(body.system).toEqual(req.system);
    expect(body.tools).toEqual(AGENT_TOOLS);
    expect(body.thinking).toEqual({ type: 'enabled', budget_tokens: 4096 });
    expect(body.tool_choice).toEqual({ type: 'auto' });
    expect(body.max_tokens).toBe(8192);
    expect(body.stream).toBe(true);
    expect(body.messages).toEqual(
      req.messages.map((m) =>
        typeof m.content === 'string' ? { ...m, content: [{ type: 'text', text: m.content }] } : m,
      ),
    );

    expect(final.content[0]).toEqual({ type: 'thinking', thinking: THOUGHT, signature: 'sig-msg_fake1' });
    expect(final.content[1]).toMatchObject({ type: 'text' });
    expect(final.stop_reason).toBe('end_turn');
    expect(final.usage).toMatchObject({
      input_tokens: 100,
      output_tokens: 50,
      cache_read_input_tokens: 4000,
      cache_creation_input_tokens: 1000,
    });

    // claude-sonnet-4-5 per 1M: input $3, cache read $0.30, cache write $3.75, output $15
    const cost = (100 * 3 + 4000 * 0.3 + 1000 * 3.75 + 50 * 15) / 1e6;
    await expectOneRecord(
      tenantId,
      { model: 'claude-sonnet-4-5', prompt_tokens: 5100, completion_tokens: 50 },
      cost,
    );
  });

  it('the same turn to a GPT model: translated, extensions dropped, a tool call streamed back', async () => {
    const { tenantId, key } = await tenantWithKey(s.booted);
    s.upstream.setBehaviour({ followSchemas: true, usage: USAGE, thinking: THOUGHT });
    const final = await client(key).messages.stream(codingAgentRequest('gpt-4o-mini', true)).finalMessage();

    const body = s.upstream.requests[0].body;
    expect(s.upstream.requests[0].vendor).toBe('openai');
    expect(body.thinking).toBeUndefined();
    expect(JSON.stringify(body)).not.toContain('cache_control');
    expect(JSON.stringify(body)).not.toContain('sig-earlier-turn');
    expect(body.tools).toHaveLength(12);
    expect(body.tools[2].function.parameters).toEqual(AGENT_TOOLS[2].input_schema);
    expect(body.messages.map((m: { role: string }) => m.role)).toEqual([
      'system',
      'user',
      'assistant',
      'tool',
      'tool',
      'user',
    ]);
    expect(body.messages[2].tool_calls.map((c: { id: string }) => c.id)).toEqual([
      'toolu_01Read',
      'toolu_02Test',
    ]);
    expect(body.messages[4]).toEqual({
      role: 'tool',
      tool_call_id: 'toolu_02Test',
      content: '1 failed: empty input',
    });
    expect(body.stream).toBe(true);

    // The last message is the user's "Go on.": the (schema-following) fake calls the first tool.
    expect(final.stop_reason).toBe('tool_use');
    expect(final.content).toEqual([
      {
        type: 'tool_use',
        id: expect.any(String),
        name: 'read_file',
        input: sampleFromSchema(AGENT_TOOLS[0].input_schema),
      },
    ]);
    expect(final.usage).toMatchObject({
      input_tokens: 100,
      output_tokens: 50,
      cache_read_input_tokens: 4000,
    });

    // gpt-4o-mini per 1M: input $0.15, cached input $0.075, output $0.60
    const cost = (100 * 0.15 + 4000 * 0.075 + 50 * 0.6) / 1e6;
    await expectOneRecord(
      tenantId,
      { model: 'gpt-4o-mini', prompt_tokens: 4100, completion_tokens: 50 },
      cost,
    );
  });

  it('the PII policy reaches tool results and system blocks: redacted before Claude sees them', async () => {
    const { key } = await tenantWithKey(s.booted, { piiMode: 'redact' });
    const res = await request(s.booted.url)
      .post('/v1/messages')
      .set('x-api-key', key)
      .send({
        model: 'claude-sonnet-4-5',
        max_tokens: 32,
        system: [{ type: 'text', text: 'Owner: jane.doe@example.com', cache_control: { type: 'ephemeral' } }],
        messages: [
          { role: 'user', content: 'Who is the owner?' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_9', name: 'lookup', input: {} }] },
          {
            role: 'user',
            content: [{ type: 'tool_result', tool_use_id: 'toolu_9', content: 'card 4111 1111 1111 1111' }],
          },
        ],
        tools: [{ name: 'lookup', input_schema: { type: 'object' } }],
      })
      .expect(200);
    expect(res.headers['x-atp-pii']).toBe('redacted');
    const sent = s.upstream.requests[0].body;
    expect(JSON.stringify(sent)).not.toMatch(/jane\.doe|4111/);
    expect(sent.system[0].cache_control).toEqual({ type: 'ephemeral' });
    expect(sent.messages[2].content[0]).toMatchObject({ type: 'tool_result', tool_use_id: 'toolu_9' });
  });

  describe("errors on the door are in Anthropic's shape, with ATP's statuses and headers", () => {
    let key: string;
    let restricted: string;
    beforeAll(async () => {
      key = (await tenantWithKey(s.booted)).key;
      restricted = (await tenantWithKey(s.booted, { allowedModels: ['gpt-4o-mini'], piiMode: 'block' })).key;
    });
    const post = (path = '/v1/messages', as = key) => request(s.booted.url).post(path).set('x-api-key', as);
    const ok = { model: 'gpt-4o-mini', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] };
    const expectError = (res: request.Response, status: number, type: string, message?: RegExp) => {
      expect(res.status).toBe(status);
      expect(res.body).toEqual({ type: 'error', error: { type, message: expect.any(String) } });
      if (message) expect(res.body.error.message).toMatch(message);
      expect(res.headers['x-request-id']).toBeTruthy();
    };

    it('401 without a credential, and with a bad one (x-api-key or Bearer)', async () => {
      expectError(await request(s.booted.url).post('/v1/messages').send(ok), 401, 'authentication_error');
      expectError(
        await request(s.booted.url).post('/v1/messages').set('authorization', 'Bearer atp_nope').send(ok),
        401,
        'authentication_error',
      );
      expectError(
        await request(s.booted.url).post('/v1/messages/count_tokens').set('x-api-key', 'atp_nope').send(ok),
        401,
        'authentication_error',
      );
    });

    it('400 for bodies that do not parse or validate, naming the field; 415 for a non-JSON body', async () => {
      expectError(
        await post().set('content-type', 'application/json').send('{"model":'),
        400,
        'invalid_request_error',
        /JSON/,
      );
      expectError(
        await post().send({ ...ok, max_tokens: undefined }),
        400,
        'invalid_request_error',
        /^max_tokens: Field required$/,
      );
      expectError(
        await post().send({ ...ok, messages: [{ role: 'user', content: [{ type: 'video' }] }] }),
        400,
        'invalid_request_error',
        /^messages\.0\.content\.0\.type: /,
      );
      const deep = JSON.parse('{"a":'.repeat(300) + '1' + '}'.repeat(300)) as object;
      expectError(
        await post().send({ ...ok, metadata: deep }),
        400,
        'invalid_request_error',
        /nested deeper/,
      );
      expectError(await post().set('content-type', 'text/plain').send('hello'), 415, 'invalid_request_error');
    });

    it('404 for an unknown model, 403 outside the allow-list, 422 for a blocked prompt', async () => {
      expectError(
        await post().send({ ...ok, model: 'no-such-model' }),
        404,
        'not_found_error',
        /no-such-model/,
      );
      expectError(
        await post('/v1/messages', restricted).send({ ...ok, model: 'claude-sonnet-4-5' }),
        403,
        'permission_error',
        /not allowed/,
      );
      const pii = await post('/v1/messages', restricted).send({
        ...ok,
        messages: [{ role: 'user', content: 'mail jane.doe@example.com' }],
      });
      expectError(pii, 422, 'invalid_request_error');
      expect(pii.headers['x-atp-pii']).toBe('blocked');
      expectError(
        await post('/v1/messages/count_tokens').send({ ...ok, model: 'nope' }),
        404,
        'not_found_error',
      );
      expect(s.upstream.requests).toHaveLength(0);
    });

    it('a key without the llm scope is a permission_error; the chat door keeps its own envelope', async () => {
      const tenant = await s.booted.app
        .get(TenantService)
        .createTenant({ name: `msg-${Date.now()}`, actor: ACTOR });
      const adminOnly = await s.booted.app
        .get(ApiKeyService)
        .createKey({ tenantId: tenant.id, name: 'admin', scopes: ['admin'], actor: ACTOR });
      expectError(
        await request(s.booted.url).post('/v1/messages').set('x-api-key', adminOnly.key).send(ok),
        403,
        'permission_error',
      );
      const chat = await request(s.booted.url).post('/v1/chat/completions').send({});
      expect(chat.status).toBe(401);
      expect(chat.body.error).toEqual(
        expect.objectContaining({ type: 'authentication_error', code: expect.any(String) }),
      );
    });
  });
});
