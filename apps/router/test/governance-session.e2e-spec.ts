import { register } from 'prom-client';
import request from 'supertest';
import { ApiKeyService } from '@app/auth';
import { bootApp, type BootedApp, createTestEnv, SERVICES_LABEL, type TestEnv } from '@app/testing';
import { AppModule as GatewayModule } from '../../memory-gateway/src/app.module';
import { AppModule } from '../src/app.module';
import { ACTOR, type FakeUpstream, startFakeUpstream, tenantWithKey } from './governance-helpers';

/** x-atp-session-id: the router keeps a conversation in the real memory gateway, over HTTP. */
describe(`router session memory through the memory gateway (${SERVICES_LABEL})`, () => {
  let upstream: FakeUpstream;
  let testEnv: TestEnv;
  let gateway: BootedApp;
  let router: BootedApp;
  let key: string;

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    testEnv = await createTestEnv({
      OPENAI_API_KEY: 'sk-fake-openai',
      OPENAI_BASE_URL: upstream.openaiBaseUrl,
    });
    register.clear();
    gateway = await bootApp('memory-gateway', GatewayModule, testEnv.env);
    register.clear();
    router = await bootApp('router', AppModule, { ...testEnv.env, MEMORY_GATEWAY_URL: gateway.url });
    const { tenantId } = await tenantWithKey(router);
    const created = await router.app.get(ApiKeyService).createKey({
      tenantId,
      name: 'session',
      scopes: ['llm', 'memory:read', 'memory:write'],
      actor: { ...ACTOR, scopes: ['llm', 'memory:read', 'memory:write'] },
    });
    key = created.key;
  }, 60_000);
  beforeEach(() => upstream.reset());
  afterAll(async () => {
    await router?.close();
    await gateway?.close();
    await upstream?.close();
    await testEnv?.cleanup();
  });

  const chat = (content: string, session?: string, auth = key) => {
    const r = request(router.url).post('/v1/chat/completions').set('authorization', `Bearer ${auth}`);
    if (session) r.set('x-atp-session-id', session);
    return r.send({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content },
      ],
    });
  };

  it('prepends the stored turns and appends the new turn and the answer', async () => {
    const first = await chat('My name is Ada.', 'chat-1').expect(200);
    expect(first.headers['x-atp-session']).toBe('new');
    expect(upstream.requests[0].body.messages).toHaveLength(2);

    // the write happens after the answer, off the request path
    const deadline = Date.now() + 5_000;
    while (
      (await request(gateway.url).get('/v1/memory/atp-sessions/chat-1').set('authorization', `Bearer ${key}`))
        .status !== 200
    ) {
      if (Date.now() > deadline) throw new Error('the session was not stored');
      await new Promise((r) => setTimeout(r, 50));
    }

    const second = await chat('What is my name?', 'chat-1').expect(200);
    expect(second.headers['x-atp-session']).toBe('hit');
    expect(upstream.requests[1].body.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'My name is Ada.' },
      { role: 'assistant', content: 'Hello from the fake upstream.' },
      { role: 'user', content: 'What is my name?' },
    ]);
  });

  it('is off without the header, and needs a credential with memory scopes', async () => {
    const plain = await chat('What is my name?').expect(200);
    expect(plain.headers['x-atp-session']).toBeUndefined();
    expect(upstream.requests[0].body.messages).toHaveLength(2);
    const llmOnly = await tenantWithKey(router);
    const denied = await chat('hi', 'chat-1', llmOnly.key).expect(403);
    expect(denied.body.error.code).toBe('session_forbidden');
    const bad = await chat('hi', 'no spaces allowed').expect(400);
    expect(bad.body.error.code).toBe('invalid_session_id');
    expect(upstream.requests).toHaveLength(1);
  });

  it('works with the credential in x-api-key: the gateway gets it too', async () => {
    const viaXApiKey = (content: string) =>
      request(router.url)
        .post('/v1/chat/completions')
        .set('x-api-key', key)
        .set('x-atp-session-id', 'chat-x')
        .send({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] });
    expect((await viaXApiKey('My name is Grace.').expect(200)).headers['x-atp-session']).toBe('new');
    const deadline = Date.now() + 5_000;
    while (
      (await request(gateway.url).get('/v1/memory/atp-sessions/chat-x').set('x-api-key', key)).status !== 200
    ) {
      if (Date.now() > deadline) throw new Error('the session was not stored');
      await new Promise((r) => setTimeout(r, 50));
    }
    const second = await viaXApiKey('What is my name?').expect(200);
    expect(second.headers['x-atp-session']).toBe('hit');
    expect(upstream.requests[1].body.messages[0]).toEqual({ role: 'user', content: 'My name is Grace.' });
  });
});
