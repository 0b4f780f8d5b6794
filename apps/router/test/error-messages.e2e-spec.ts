import request from 'supertest';
import { bootApp, type BootedApp, createTestEnv, SERVICES_LABEL, type TestEnv } from '@app/testing';
import { readDevCredentials } from '../../../test/auth-helpers';
import { AppModule } from '../src/app.module';

/** Validation and framework errors on the router say what is wrong, in the envelope. */
describe(`router error messages on ${SERVICES_LABEL}`, () => {
  let testEnv: TestEnv;
  let booted: BootedApp;
  let key: string;

  beforeAll(async () => {
    testEnv = await createTestEnv();
    booted = await bootApp('router', AppModule, testEnv.env);
    key = readDevCredentials(testEnv.dataDir).api_key;
  });
  afterAll(async () => {
    await booted?.close();
    await testEnv?.cleanup();
  });

  const auth = (r: request.Test) => r.set('authorization', `Bearer ${key}`);

  it('a wrong type is reported as a wrong type on the admin API', async () => {
    const rpm = await auth(request(booted.url).put('/v1/admin/limits')).send({ rpm: 'x' }).expect(400);
    expect(rpm.body.error).toEqual({
      message: 'rpm must be an integer number',
      type: 'invalid_request_error',
      code: 'invalid_request',
      param: 'rpm',
    });
    const scopes = await auth(request(booted.url).post('/v1/admin/api-keys'))
      .send({ name: 'a', scopes: 'llm' })
      .expect(400);
    expect(scopes.body.error).toMatchObject({ param: 'scopes', message: 'scopes must be an array' });
  });

  it('chat completions: a wrong type names the field and the type', async () => {
    const res = await auth(request(booted.url).post('/v1/chat/completions'))
      .send({ model: 'mock-1', messages: [{ role: 'user', content: 'hi' }], temperature: 'hot' })
      .expect(400);
    expect(res.body.error).toMatchObject({ param: 'temperature', code: 'invalid_request' });
    expect(res.body.error.message).toMatch(/expected number, received string/);
  });

  it('__proto__ in a chat body is refused by name, not as invalid JSON', async () => {
    const res = await auth(request(booted.url).post('/v1/chat/completions'))
      .set('content-type', 'application/json')
      .send('{"model":"mock-1","messages":[{"role":"user","content":"hi","__proto__":{"x":1}}]}')
      .expect(400);
    expect(res.body.error).toMatchObject({ code: 'forbidden_json_key', type: 'invalid_request_error' });
  });

  it('DELETE of an API key with content-type: application/json and no body', async () => {
    const created = await auth(request(booted.url).post('/v1/admin/api-keys'))
      .send({ name: 'to-revoke', scopes: ['llm'] })
      .expect(201);
    await auth(request(booted.url).delete(`/v1/admin/api-keys/${created.body.id}`))
      .set('content-type', 'application/json')
      .expect((r) => expect(r.status).toBeLessThan(300));
  });

  it('a bad percent-escape and an over-long path parameter are 400s in the envelope', async () => {
    const bad = await auth(request(booted.url).delete('/v1/admin/api-keys/%E0%A4%A')).expect(400);
    expect(bad.body.error).toMatchObject({ code: 'invalid_url', param: null });
    const long = await auth(request(booted.url).delete(`/v1/admin/api-keys/${'a'.repeat(600)}`)).expect(400);
    expect(long.body.error).toMatchObject({ code: 'invalid_request', type: 'invalid_request_error' });
  });
});
