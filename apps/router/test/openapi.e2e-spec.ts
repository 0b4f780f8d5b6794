import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import request from 'supertest';
import { bootApp, type BootedApp, createTestEnv, SERVICES_LABEL, type TestEnv } from '@app/testing';
import { AppModule } from '../src/app.module';
import { ModelsController } from '../src/doors/models/models.controller';
import { tenantWithKey } from './governance-helpers';

interface OpenApiDoc {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { required?: string[]; properties?: Record<string, unknown> }> };
}
interface Operation {
  requestBody?: { content: Record<string, { schema: { $ref?: string } }> };
  responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }>;
  security?: unknown[];
}

const ref = (name: string) => `#/components/schemas/${name}`;

/**
 * The router's OpenAPI document is usable by generated clients: typed request and response
 * schemas for the OpenAI-compatible routes, /health and /ready, every admin route. The schemas
 * are checked against real answers (the embedded mock) with a JSON Schema validator, so a
 * document that drifts from what the router sends fails here.
 */
describe(`router OpenAPI document (${SERVICES_LABEL})`, () => {
  let testEnv: TestEnv;
  let booted: BootedApp;
  let key: string;
  let spec: OpenApiDoc;
  // OpenAPI 3.0 schemas: `nullable` is understood, `example` ignored.
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);

  beforeAll(async () => {
    testEnv = await createTestEnv();
    booted = await bootApp('router', AppModule, testEnv.env);
    key = (await tenantWithKey(booted)).key;
    spec = (await request(booted.url).get('/openapi.json').expect(200)).body;
  });
  afterAll(async () => {
    await booted?.close();
    await testEnv?.cleanup();
  });

  /** Validates `value` against a component of the document; returns the errors ('' when valid). */
  function check(component: string, value: unknown): string {
    const validate = ajv.compile({ $ref: ref(component), components: spec.components });
    return validate(value) ? '' : ajv.errorsText(validate.errors);
  }

  it('every route is documented: OpenAI-compatible, usage, admin, health and readiness', () => {
    const expected: [string, string][] = [
      ['/v1/chat/completions', 'post'],
      ['/v1/embeddings', 'post'],
      ['/v1/messages', 'post'],
      ['/v1/messages/count_tokens', 'post'],
      ['/v1/models', 'get'],
      ['/v1/usage', 'get'],
      ['/v1/admin/tenants', 'post'],
      ['/v1/admin/api-keys', 'get'],
      ['/v1/admin/api-keys', 'post'],
      ['/v1/admin/api-keys/{id}', 'delete'],
      ['/v1/admin/limits', 'get'],
      ['/v1/admin/limits', 'put'],
      ['/health', 'get'],
      ['/ready', 'get'],
    ];
    const missing = expected.filter(([path, method]) => !spec.paths[path]?.[method]);
    expect(missing).toEqual([]);
    expect(spec.paths['/ready'].get.responses['503']).toBeDefined();
  });

  it('chat completions, embeddings and models have named request and response schemas', () => {
    const chat = spec.paths['/v1/chat/completions'].post;
    expect(chat.requestBody!.content['application/json'].schema.$ref).toBe(ref('ChatCompletionRequest'));
    expect(chat.responses['200'].content!['application/json'].schema.$ref).toBe(ref('ChatCompletion'));
    expect(chat.responses['200'].content!['text/event-stream']).toBeDefined();
    expect(chat.responses['401']).toBeDefined();
    for (const status of ['400', '404', '429', '502', '504'])
      expect(chat.responses[status].content!['application/json'].schema.$ref).toBe(ref('ErrorResponse'));
    const emb = spec.paths['/v1/embeddings'].post;
    expect(emb.requestBody!.content['application/json'].schema.$ref).toBe(ref('CreateEmbeddingRequest'));
    expect(emb.responses['200'].content!['application/json'].schema.$ref).toBe(
      ref('CreateEmbeddingResponse'),
    );
    expect(spec.paths['/v1/models'].get.responses['200'].content!['application/json'].schema.$ref).toBe(
      ref('ModelList'),
    );
    const schemas = spec.components.schemas;
    expect(schemas.ChatCompletionRequest.required).toEqual(['model', 'messages']);
    expect(Object.keys(schemas.ChatCompletionRequest.properties!)).toEqual(
      expect.arrayContaining([
        'tools',
        'tool_choice',
        'response_format',
        'stream_options',
        'max_completion_tokens',
      ]),
    );
    expect(schemas.CreateEmbeddingRequest.required).toEqual(['model', 'input']);
    expect(Object.keys(schemas.Model.properties!)).toEqual(
      expect.arrayContaining(['id', 'object', 'created', 'owned_by', 'deprecated', 'deprecation_date']),
    );
    expect(schemas.ChatCompletionChunk).toBeDefined();
    expect(spec.paths['/v1/chat/completions'].post.security).toEqual([{ bearer: [] }]);
  });

  it('the Messages door has named schemas, its SSE, and errors in Anthropic shape; answers match them', async () => {
    const op = spec.paths['/v1/messages'].post;
    expect(op.requestBody!.content['application/json'].schema.$ref).toBe(ref('MessagesRequest'));
    expect(op.responses['200'].content!['application/json'].schema.$ref).toBe(ref('MessagesResponse'));
    expect(op.responses['200'].content!['text/event-stream']).toBeDefined();
    for (const status of ['400', '401', '403', '404', '429', '502'])
      expect(op.responses[status].content!['application/json'].schema.$ref).toBe(ref('AnthropicError'));
    expect(spec.components.schemas.MessagesRequest.required).toEqual(
      expect.arrayContaining(['model', 'messages', 'max_tokens']),
    );
    const count = spec.paths['/v1/messages/count_tokens'].post;
    expect(count.responses['200'].content!['application/json'].schema.$ref).toBe(ref('MessageTokensCount'));

    const send = (path: string, body: object) =>
      request(booted.url).post(path).set('x-api-key', key).send(body);
    const ask = { model: 'auto', max_tokens: 20, messages: [{ role: 'user', content: 'weather?' }] };
    expect(check('MessagesResponse', (await send('/v1/messages', ask).expect(200)).body)).toBe('');
    const tool = { name: 'weather', input_schema: { type: 'object' } };
    const withTool = (await send('/v1/messages', { ...ask, tools: [tool] }).expect(200)).body;
    expect(withTool.content.some((b: { type: string }) => b.type === 'tool_use')).toBe(true);
    expect(check('MessagesResponse', withTool)).toBe('');
    expect(check('MessageTokensCount', (await send('/v1/messages/count_tokens', ask).expect(200)).body)).toBe(
      '',
    );
    const bad = await send('/v1/messages', { model: 'auto' });
    expect(bad.status).toBe(400);
    expect(check('AnthropicError', bad.body)).toBe('');
    expect(check('AnthropicError', { type: 'error', error: { type: 'nope', message: 'x' } })).not.toBe('');
  });

  it('GET /v1/models/{id} is documented with the Model schema when the route exists', () => {
    // The route lands from another branch; until then this checks nothing on purpose.
    if (typeof (ModelsController.prototype as unknown as Record<string, unknown>).retrieve !== 'function')
      return;
    const path = Object.keys(spec.paths).find((p) => /^\/v1\/models\/\{[^}]+\}$/.test(p));
    expect(path).toBeDefined();
    expect(spec.paths[path!].get.responses['200'].content!['application/json'].schema.$ref).toBe(
      ref('Model'),
    );
  });

  it('the schemas describe what the router really sends', async () => {
    const auth = `Bearer ${key}`;
    const chat = await request(booted.url)
      .post('/v1/chat/completions')
      .set('authorization', auth)
      .send({ model: 'auto', messages: [{ role: 'user', content: 'hello' }], max_tokens: 5 })
      .expect(200);
    expect(check('ChatCompletion', chat.body)).toBe('');
    const tools = await request(booted.url)
      .post('/v1/chat/completions')
      .set('authorization', auth)
      .send({
        model: 'auto',
        messages: [{ role: 'user', content: 'weather?' }],
        tools: [{ type: 'function', function: { name: 'weather', parameters: { type: 'object' } } }],
      })
      .expect(200);
    expect(tools.body.choices[0].message.tool_calls).toHaveLength(1);
    expect(check('ChatCompletion', tools.body)).toBe('');

    const stream = await request(booted.url)
      .post('/v1/chat/completions')
      .set('authorization', auth)
      .send({ model: 'auto', messages: [{ role: 'user', content: 'hello' }], stream: true })
      .buffer(true)
      .parse((res, done) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => done(null, text));
      })
      .expect(200);
    const chunks = (stream.body as string)
      .split('\n')
      .filter((l) => l.startsWith('data: ') && l !== 'data: [DONE]')
      .map((l) => JSON.parse(l.slice(6)));
    expect(chunks.length).toBeGreaterThan(2);
    for (const chunk of chunks) expect(check('ChatCompletionChunk', chunk)).toBe('');

    const emb = await request(booted.url)
      .post('/v1/embeddings')
      .set('authorization', auth)
      .send({ model: 'text-embedding-3-small', input: ['a', 'b'] })
      .expect(200);
    expect(check('CreateEmbeddingResponse', emb.body)).toBe('');

    const models = await request(booted.url).get('/v1/models').set('authorization', auth).expect(200);
    expect(check('ModelList', models.body)).toBe('');
    expect(check('ModelList', { object: 'list', data: [{ id: 1 }] })).not.toBe('');

    const bad = await request(booted.url).post('/v1/chat/completions').set('authorization', auth).send({});
    expect(bad.status).toBe(400);
    expect(check('ErrorResponse', bad.body)).toBe('');
  });

  it('/health and /ready answers match their documented schemas', async () => {
    const schemaOf = (path: string, status: string) =>
      (spec.paths[path].get.responses[status].content!['application/json'] as { schema: object }).schema;
    const live = await request(booted.url).get('/health').expect(200);
    expect(ajv.validate(schemaOf('/health', '200'), live.body)).toBe(true);
    const ready = await request(booted.url).get('/ready').expect(200);
    expect(ajv.validate(schemaOf('/ready', '200'), ready.body)).toBe(true);
  });
});
