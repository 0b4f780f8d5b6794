import request from 'supertest';
import { type BootedApp, bootApp, createTestEnv, SERVICES_LABEL, type TestEnv } from '@app/testing';
import { AppModule } from '../src/app.module';
import { client, type Client, createTenant } from './memory-helpers';

/** Validation and framework errors on the memory API say what is wrong, in the envelope. */
describe(`memory gateway error messages on ${SERVICES_LABEL}`, () => {
  let testEnv: TestEnv;
  let gateway: BootedApp;
  let api: Client;
  let key: string;

  beforeAll(async () => {
    testEnv = await createTestEnv();
    gateway = await bootApp('memory-gateway', AppModule, testEnv.env);
    key = (await createTenant(gateway, 'errors tenant')).key;
    api = client(gateway, key);
  });
  afterAll(async () => {
    await gateway?.close();
    await testEnv?.cleanup();
  });

  const error = (body: unknown) => (body as { error: Record<string, unknown> }).error;

  it('a wrong type names the type: tags "x" is not an array, a numeric query is not a string', async () => {
    const tags = await api.put('/v1/memory/ns/k', { value: 'v', tags: 'x' }).expect(400);
    expect(error(tags.body)).toEqual({
      message: 'tags must be an array of strings',
      type: 'invalid_request_error',
      code: 'invalid_request',
      param: 'tags',
    });
    const ttl = await api.put('/v1/memory/ns/k', { value: 'v', ttl_seconds: 'soon' }).expect(400);
    expect(error(ttl.body)).toMatchObject({
      param: 'ttl_seconds',
      message: 'ttl_seconds must be an integer number of seconds',
    });
    const query = await api.post('/v1/memory/ns/search', { query: 5 }).expect(400);
    expect(error(query.body)).toMatchObject({ param: 'query', message: 'query must be a string' });
    const searchTags = await api.post('/v1/memory/ns/search', { query: 'a', tags: 'x' }).expect(400);
    expect(error(searchTags.body)).toMatchObject({
      param: 'tags',
      message: 'tags must be an array of strings',
    });
  });

  it('a memory name past the router limit is a 400 in the envelope; one past 128 characters names the limit', async () => {
    const huge = await api.get(`/v1/memory/ns/${'k'.repeat(600)}`).expect(400);
    expect(error(huge.body)).toMatchObject({ code: 'invalid_request', type: 'invalid_request_error' });
    const long = await api.get(`/v1/memory/ns/${'k'.repeat(200)}`).expect(400);
    expect(error(long.body).message).toMatch(/128/);
  });

  it('a bad percent-escape in a memory name is a 400 in the envelope', async () => {
    const res = await api.get('/v1/memory/ns/%E0%A4%A').expect(400);
    expect(error(res.body)).toMatchObject({
      code: 'invalid_url',
      type: 'invalid_request_error',
      param: null,
    });
  });

  it('DELETE of a record and of a namespace with content-type: application/json and no body', async () => {
    await api.put('/v1/memory/ns/gone', { value: 'v' }).expect(201);
    await api.del('/v1/memory/ns/gone', { 'content-type': 'application/json' }).expect(204);
    await api.get('/v1/memory/ns/gone').expect(404);
    const ns = await api.del('/v1/memory/ns', { 'content-type': 'application/json' });
    expect(ns.status).toBeLessThan(300);
  });

  it('__proto__ in a value is refused by name and nothing is stored', async () => {
    const res = await request(gateway.url)
      .put('/v1/memory/ns/p')
      .set('authorization', `Bearer ${key}`)
      .set('content-type', 'application/json')
      .send('{"value":{"a":1,"__proto__":{"admin":true}}}')
      .expect(400);
    expect(error(res.body)).toMatchObject({ code: 'forbidden_json_key', param: null });
    await api.get('/v1/memory/ns/p').expect(404);
  });
});
