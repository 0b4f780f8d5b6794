import { writeFileSync } from 'node:fs';
import http, { type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { bootApp, type BootedApp, createTestEnv, SERVICES_LABEL, type TestEnv } from '@app/testing';
import { AppModule } from '../src/app.module';
import { type FakeUpstream, startFakeUpstream, tenantWithKey, upstreamEnv } from './governance-helpers';

/** One streamed completion as a client sees it: when its first content arrived, when it ended. */
interface StreamTrace {
  status: number;
  firstContentAt: number;
  endedAt: number;
  text: string;
  done: boolean;
}

async function streamOnce(
  url: string,
  key: string,
  model: string,
  dispatcher: Agent,
  onFirstContent: () => void,
): Promise<StreamTrace> {
  const res = await request(`${url}/v1/chat/completions`, {
    method: 'POST',
    dispatcher,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'count' }] }),
  });
  const trace: StreamTrace = { status: res.statusCode, firstContentAt: 0, endedAt: 0, text: '', done: false };
  let buffered = '';
  for await (const chunk of res.body) {
    buffered += (chunk as Buffer).toString('utf8');
    let nl: number;
    while ((nl = buffered.indexOf('\n\n')) !== -1) {
      const event = buffered.slice(0, nl).replace(/^data: /, '');
      buffered = buffered.slice(nl + 2);
      if (event === '[DONE]') trace.done = true;
      else {
        const content = JSON.parse(event).choices?.[0]?.delta?.content;
        if (content) {
          if (!trace.firstContentAt) {
            trace.firstContentAt = Date.now();
            onFirstContent();
          }
          trace.text += content;
        }
      }
    }
  }
  trace.endedAt = Date.now();
  return trace;
}

/**
 * An OpenAI-shaped upstream that sends each stream's first chunk at once and holds the rest until
 * `release()`: how many streams it holds open says how many the router runs at once, whatever the
 * machine's speed.
 */
async function startHoldingUpstream(words: string[]) {
  const held: ServerResponse[] = [];
  const chunk = (content: string) =>
    `data: ${JSON.stringify({
      id: 'chatcmpl-hold',
      object: 'chat.completion.chunk',
      created: 1,
      model: 'gpt-4o-mini',
      choices: [{ index: 0, delta: { content }, finish_reason: null }],
    })}\n\n`;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunk(words[0]));
      held.push(res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    get open() {
      return held.length;
    },
    release() {
      for (const res of held) {
        for (const w of words.slice(1)) res.write(chunk(` ${w}`));
        res.end('data: [DONE]\n\n');
      }
    },
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

/**
 * The router holds the Cloud Run service's concurrency (containerConcurrency: 1000): every stream
 * gets its own upstream socket. With the old fixed pool of 64 sockets, 936 of 1000 streams waited
 * for a first byte until earlier streams ended.
 */
describe(`upstream connection pool (${SERVICES_LABEL})`, () => {
  const WORDS = ['one', 'two', 'three', 'four'];
  const STREAMS = 1000;
  let upstream: Awaited<ReturnType<typeof startHoldingUpstream>>;
  let testEnv: TestEnv;
  let booted: BootedApp;
  let key: string;
  // A generous connect timeout: on a loaded 2-core machine 1000 connects within a second can wait in the
  // accept queue for seconds (the router's accept loop, not its pool, is what that measures).
  const client = new Agent({ connections: 1200, keepAliveTimeout: 10_000, connect: { timeout: 60_000 } });

  beforeAll(async () => {
    upstream = await startHoldingUpstream(WORDS);
    testEnv = await createTestEnv({
      OPENAI_API_KEY: 'sk-fake-openai',
      OPENAI_BASE_URL: upstream.baseUrl,
      LOG_LEVEL: 'WARNING',
    });
    booted = await bootApp('router', AppModule, testEnv.env);
    key = (await tenantWithKey(booted)).key;
  });
  afterAll(async () => {
    upstream?.release(); // a failed run leaves streams held
    await client.close();
    await booted?.close();
    await upstream?.close();
    await testEnv?.cleanup();
  });

  it('1000 concurrent streams are all open upstream at once and arrive intact', async () => {
    // Starts spread over one second, as clients arrive (and as the bench's load client does).
    let firstContents = 0;
    const streams = Array.from({ length: STREAMS }, async (_, i) => {
      await new Promise((r) => setTimeout(r, i));
      return streamOnce(booted.url, key, 'gpt-4o-mini', client, () => firstContents++);
    });
    // Every stream must reach the upstream, and every client its first token, while none has ended
    // (the upstream holds them all). Waiting for the clients too: on a loaded machine the last
    // first chunks can still be in flight through the router when the upstream has all 1000.
    const deadline = Date.now() + 120_000;
    while ((upstream.open < STREAMS || firstContents < STREAMS) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(upstream.open).toBe(STREAMS);
    expect(firstContents).toBe(STREAMS);
    const releasedAt = Date.now();
    upstream.release();
    const traces = await Promise.all(streams);
    expect(traces.filter((t) => t.status !== 200)).toEqual([]);
    expect(traces.filter((t) => !t.done || t.text !== WORDS.join(' '))).toEqual([]);
    // Each client had its first token before any stream could finish: all flowed at once.
    expect(traces.filter((t) => !t.firstContentAt || t.firstContentAt > releasedAt)).toEqual([]);
  }, 240_000);
});

describe(`upstream pool exhausted (${SERVICES_LABEL})`, () => {
  let upstream: FakeUpstream;
  let testEnv: TestEnv;
  let booted: BootedApp;
  let key: string;

  beforeAll(async () => {
    upstream = await startFakeUpstream({ behaviour: { text: 'slow reply here', chunkDelayMs: 600 } });
    testEnv = await createTestEnv({
      ...upstreamEnv(upstream),
      ATP_UPSTREAM_CONNECTIONS: '2',
      ATP_UPSTREAM_QUEUE_TIMEOUT_MS: '150',
      ATP_RETRIES_PER_CANDIDATE: '0',
    });
    const routing = join(testEnv.dataDir, 'routing.yaml');
    writeFileSync(
      routing,
      'routes:\n  spill:\n    strategy: ordered\n    candidates: [gpt-4o-mini, gemini-2.0-flash]\n',
    );
    booted = await bootApp('router', AppModule, { ...testEnv.env, ATP_ROUTING_CONFIG: routing });
    key = (await tenantWithKey(booted)).key;
  });
  afterAll(async () => {
    await booted?.close();
    await upstream?.close();
    await testEnv?.cleanup();
  });

  const chat = (model: string) =>
    request(`${booted.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
    });

  it('a call that finds every socket busy fails over to the next candidate, else 503 with Retry-After', async () => {
    // Two slow streams hold both openai sockets (and both google sockets are free).
    const holders = [0, 1].map(async () => {
      const res = await request(`${booted.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'gpt-4o-mini',
          stream: true,
          messages: [{ role: 'user', content: 'x' }],
        }),
      });
      return res.body.text();
    });
    await new Promise((r) => setTimeout(r, 300));

    const spilled = await chat('spill');
    expect(spilled.statusCode).toBe(200);
    expect(spilled.headers['x-atp-provider']).toBe('google');
    await spilled.body.dump();

    const started = Date.now();
    const refused = await chat('gpt-4o-mini');
    const waited = Date.now() - started;
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    const body = (await refused.body.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('upstream_pool_exhausted');
    // It waited the queue timeout (150 ms), not for a socket to free up (the holders take ~2 s).
    expect(waited).toBeGreaterThanOrEqual(140);
    expect(waited).toBeLessThan(1500);

    const metrics = await (await request(`${booted.url}/metrics`)).body.text();
    expect(metrics).toMatch(/atp_upstream_pool_exhausted_total\{provider="openai"\} [1-9]/);
    expect(metrics).toMatch(/atp_upstream_pool_in_use\{provider="openai"\} 2\n/);
    await Promise.all(holders);
  });
});
