import net from 'node:net';
import request from 'supertest';
import { errorTypeForStatus } from '@app/common';
import { type AppModuleLike, type BootedApp, bootApp, type ServiceName } from './boot';
import { EchoFixtureModule } from './echo.fixture';
import { createTestEnv, SERVICES_LABEL, type TestEnv } from './test-env';

function expectEnvelope(body: unknown, status: number, code?: string): void {
  const err = (body as { error?: Record<string, unknown> }).error;
  expect(err).toBeDefined();
  expect(typeof err!.message).toBe('string');
  expect((err!.message as string).length).toBeGreaterThan(0);
  expect(typeof err!.type).toBe('string');
  expect(Object.keys(err!).sort()).toEqual(['code', 'message', 'param', 'type']);
  if (code) expect(err!.code).toBe(code);
  expect(err!.type).toBe(errorTypeForStatus(status));
}

/**
 * What CONTRACT §4/§5 promise for every service, run against the real AppModule on whatever
 * services this run is configured with (SQLite or PostgreSQL, in-process cache or Redis).
 */
export function describeServiceBasics(service: ServiceName, appModule: AppModuleLike): void {
  describe(`${service} basics on ${SERVICES_LABEL}`, () => {
    let testEnv: TestEnv;
    let booted: BootedApp;

    beforeAll(async () => {
      testEnv = await createTestEnv();
      booted = await bootApp(service, appModule, testEnv.env, [EchoFixtureModule]);
    });
    afterAll(async () => {
      await booted?.close();
      await testEnv?.cleanup();
    });

    it('GET /health is 200 and touches nothing', async () => {
      const res = await request(booted.url).get('/health').expect(200);
      expect(res.body).toEqual({ status: 'ok', service });
    });

    it('GET /ready is 200 with every configured dependency up', async () => {
      const res = await request(booted.url).get('/ready').expect(200);
      expect(res.body.status).toBe('ok');
      expect(res.body.details.database.status).toBe('up');
      if (booted.config.redis) expect(res.body.details.redis.status).toBe('up');
      else expect(res.body.details.redis).toBeUndefined();
    });

    it('x-request-id: echoes a well-formed one, replaces a malformed one', async () => {
      const mine = await request(booted.url).get('/health').set('x-request-id', 'req-abc.123');
      expect(mine.headers['x-request-id']).toBe('req-abc.123');
      const bad = await request(booted.url).get('/health').set('x-request-id', 'bad id with spaces<script>');
      expect(bad.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      const none = await request(booted.url).get('/nope');
      expect(none.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('GET /metrics serves Prometheus text with process metrics and the request histogram', async () => {
      await request(booted.url).get('/health');
      const res = await request(booted.url).get('/metrics').expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(res.text).toContain('process_cpu_user_seconds_total');
      expect(res.text).toContain('# TYPE http_server_requests_seconds histogram');
      expect(res.text).toMatch(
        /http_server_requests_seconds_count\{method="GET",route="\/health",status="200"\} \d+/,
      );
    });

    it('GET /docs renders Swagger UI and /openapi.json is the spec', async () => {
      const docs = await request(booted.url).get('/docs').expect(200);
      expect(docs.text).toContain('swagger-ui');
      const spec = await request(booted.url).get('/openapi.json').expect(200);
      expect(spec.body.openapi).toMatch(/^3\./);
      expect(spec.body.components.securitySchemes.bearer).toBeDefined();
    });

    it('unknown route → 404 in the envelope', async () => {
      const res = await request(booted.url).get('/v1/does-not-exist').expect(404);
      expectEnvelope(res.body, 404, 'not_found');
      expect(res.body.error.type).toBe('not_found_error');
    });

    it('malformed JSON → 400 in the envelope', async () => {
      const res = await request(booted.url)
        .post('/__test/echo')
        .set('content-type', 'application/json')
        .send('{"text": "a", "count": ')
        .expect(400);
      expectEnvelope(res.body, 400);
      expect(res.body.error.type).toBe('invalid_request_error');
    });

    it('a 10 MB body → 413 in the envelope', async () => {
      const big = JSON.stringify({ text: 'x'.repeat(10 * 1024 * 1024), count: 1 });
      const res = await request(booted.url)
        .post('/__test/echo')
        .set('content-type', 'application/json')
        .send(big);
      expect(res.status).toBe(413);
      expectEnvelope(res.body, 413, 'request_too_large');
    });

    it('a text/plain body → 415 in the envelope', async () => {
      const res = await request(booted.url)
        .post('/__test/echo')
        .set('content-type', 'text/plain')
        .send('hello')
        .expect(415);
      expectEnvelope(res.body, 415, 'unsupported_media_type');
    });

    it('a form body → 415 in the envelope', async () => {
      const res = await request(booted.url)
        .post('/__test/echo')
        .set('content-type', 'application/x-www-form-urlencoded')
        .send('text=a&count=1')
        .expect(415);
      expectEnvelope(res.body, 415, 'unsupported_media_type');
    });

    it('invalid fields → 400 naming the param; unknown fields rejected', async () => {
      const bad = await request(booted.url).post('/__test/echo').send({ text: 'a', count: 99 }).expect(400);
      expectEnvelope(bad.body, 400, 'invalid_request');
      expect(bad.body.error.param).toBe('count');
      const extra = await request(booted.url)
        .post('/__test/echo')
        .send({ text: 'a', count: 1, evil: true })
        .expect(400);
      expect(extra.body.error.param).toBe('evil');
      const ok = await request(booted.url).post('/__test/echo').send({ text: 'a', count: 1 }).expect(201);
      expect(ok.body).toEqual({ text: 'a', count: 1 });
    });

    it('odd inputs never produce a 500', async () => {
      const probes = [
        request(booted.url).post('/__test/echo').set('content-type', 'application/json').send('null'),
        request(booted.url).post('/__test/echo').set('content-type', 'application/json').send('[]'),
        request(booted.url).post('/__test/echo').set('content-type', 'application/json').send('"str"'),
        request(booted.url)
          .post('/__test/echo')
          .set('content-type', 'application/json')
          .send('{"__proto__": {"x": 1}}'),
        request(booted.url).post('/__test/echo').set('content-type', 'application/json'),
        request(booted.url).get('/%E0%A4%A'),
        request(booted.url)
          .post('/__test/echo')
          .set('content-type', 'application/json')
          .send('['.repeat(20_000) + ']'.repeat(20_000)),
        request(booted.url).delete('/health'),
      ];
      for (const res of await Promise.all(probes)) {
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
        expect(res.body.error).toBeDefined();
      }
    });

    it("a malformed percent-escape in the path → 400 in the envelope, not Fastify's own body", async () => {
      for (const path of ['/%E0%A4%A', '/__test/echo/%zz', '/v1/%']) {
        const res = await request(booted.url).get(path).expect(400);
        expectEnvelope(res.body, 400, 'invalid_url');
        expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      }
    });

    it('a path parameter over the router limit (512) → 400 in the envelope; one under it is routed', async () => {
      const ok = await request(booted.url)
        .get(`/__test/echo/${'a'.repeat(500)}`)
        .expect(200);
      expect(ok.body).toEqual({ name: 'a'.repeat(500) });
      const res = await request(booted.url)
        .get(`/__test/echo/${'a'.repeat(600)}`)
        .expect(400);
      expectEnvelope(res.body, 400, 'invalid_request');
      expect(res.body.error.message).toBe('A path parameter is longer than 512 characters');
    });

    it('a DELETE with content-type: application/json and no body is accepted', async () => {
      await request(booted.url).delete('/__test/echo/x').set('content-type', 'application/json').expect(204);
      await request(booted.url)
        .delete('/__test/echo/x')
        .set('content-type', 'application/json')
        .set('content-length', '0')
        .expect(204);
      // a POST still needs its body, and says so
      const empty = await request(booted.url)
        .post('/__test/echo')
        .set('content-type', 'application/json')
        .expect(400);
      expectEnvelope(empty.body, 400, 'invalid_json');
      expect(empty.body.error.message).toBe('The request body is empty but Content-Type is application/json');
    });

    it('__proto__ or constructor.prototype in a body → 400 that names the key, never "invalid JSON", no pollution', async () => {
      const bodies = [
        '{"text":"a","count":1,"__proto__":{"polluted":true}}',
        '{"text":"a","count":1,"nested":[{"\\u005f_proto__":{"polluted":true}}]}',
        '{"text":"a","count":1,"constructor":{"prototype":{"polluted":true}}}',
      ];
      for (const body of bodies) {
        const res = await request(booted.url)
          .post('/__test/echo')
          .set('content-type', 'application/json')
          .send(body)
          .expect(400);
        expectEnvelope(res.body, 400, 'forbidden_json_key');
        expect(res.body.error.message).toMatch(/__proto__/);
      }
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      // the words themselves are fine as values
      await request(booted.url)
        .post('/__test/echo')
        .send({ text: '__proto__ constructor', count: 1 })
        .expect(201);
      const bad = await request(booted.url)
        .post('/__test/echo')
        .set('content-type', 'application/json')
        .send('{"text": "a", ')
        .expect(400);
      expectEnvelope(bad.body, 400, 'invalid_json');
      expect(bad.body.error.message).toMatch(/^The request body is not valid JSON: /);
    });

    it('a wrong type is reported as a wrong type, not as a range or length problem', async () => {
      const res = await request(booted.url)
        .post('/__test/echo')
        .send({ text: 'a', count: 'ten' })
        .expect(400);
      expect(res.body.error).toMatchObject({ param: 'count', message: 'count must be an integer number' });
      const text = await request(booted.url).post('/__test/echo').send({ text: 5, count: 1 }).expect(400);
      expect(text.body.error).toMatchObject({ param: 'text', message: 'text must be a string' });
    });

    it('headers over the 16 KiB limit → 431 in the envelope (answered by the HTTP parser hook)', async () => {
      const res = await fetch(`${booted.url}/health?q=${'q'.repeat(20_000)}`);
      expect(res.status).toBe(431);
      expectEnvelope(await res.json(), 431, 'headers_too_large');
    });

    it('while draining, a request on a kept-alive connection gets 503 in the envelope and Connection: close', async () => {
      const env = await createTestEnv();
      const draining = await bootApp(service, appModule, env.env, [EchoFixtureModule]);
      try {
        const { port } = new URL(draining.url);
        const socket = net.connect(Number(port), '127.0.0.1');
        let received = '';
        socket.on('data', (d: Buffer) => (received += d.toString('utf8')));
        await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
        // request 1 is in flight (600 ms) when the server starts closing; request 2 is pipelined
        // on the same connection after that
        socket.write('GET /__test/slow HTTP/1.1\r\nHost: x\r\n\r\n');
        await new Promise((r) => setTimeout(r, 150));
        const closed = draining.app.close();
        await new Promise((r) => setTimeout(r, 100));
        socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
        await new Promise<void>((resolve) => socket.once('close', () => resolve()));
        await closed;
        const responses = received.split(/(?=HTTP\/1\.1 )/);
        expect(responses).toHaveLength(2);
        expect(responses[0]).toMatch(/^HTTP\/1\.1 200 /);
        expect(responses[0]).toContain('{"done":true}');
        expect(responses[1]).toMatch(/^HTTP\/1\.1 503 /);
        expect(responses[1].toLowerCase()).toContain('connection: close');
        const body = JSON.parse(responses[1].slice(responses[1].indexOf('\r\n\r\n') + 4)) as unknown;
        expectEnvelope(body, 503, 'shutting_down');
      } finally {
        await env.cleanup();
      }
    });

    it('request logs are JSON lines with severity and x-request-id, never the Authorization header', async () => {
      const canary = 'Bearer atp_canary_secret_value_0123456789';
      await request(booted.url)
        .get('/v1/whatever?token=abc')
        .set('authorization', canary)
        .set('x-request-id', 'log-check-1');
      await new Promise((r) => setTimeout(r, 50));
      const line = booted.logs
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l['x-request-id'] === 'log-check-1');
      expect(line).toBeDefined();
      expect(line!.severity).toBe('INFO');
      expect(booted.logs.join('\n')).not.toContain('atp_canary_secret_value');
      expect(booted.logs.join('\n')).not.toContain('token=abc');
    });
  });
}
