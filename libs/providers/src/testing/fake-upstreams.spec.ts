import OpenAI from 'openai';
import { startFakeUpstream, type FakeUpstream } from './fake-upstreams';

/** The official OpenAI SDK parses what the fake OpenAI upstream sends: it speaks the real format. */
describe('fake upstream vs the official openai SDK', () => {
  let up: FakeUpstream;
  let client: OpenAI;

  beforeAll(async () => {
    up = await startFakeUpstream();
    client = new OpenAI({ apiKey: 'sk-sdk', baseURL: up.openaiBaseUrl, maxRetries: 0, timeout: 5_000 });
  });
  afterEach(() => up.reset());
  afterAll(() => up.close());

  it('chat.completions.create (JSON)', async () => {
    up.enqueue({ text: 'Hi there', usage: { prompt: 3, completion: 2 } });
    const res = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(res.choices[0].message.content).toBe('Hi there');
    expect(res.usage).toMatchObject({ prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 });
    expect(up.requests[0].headers.authorization).toBe('Bearer sk-sdk');
  });

  it('chat.completions.create (stream with include_usage) and the helper that accumulates it', async () => {
    up.enqueue({ text: 'one two three', usage: { prompt: 3, completion: 3 } });
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: unknown;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('one two three');
    expect(usage).toMatchObject({ total_tokens: 6 });

    up.enqueue({ toolCalls: [{ id: 'call_a', name: 'f', arguments: { q: 'x' } }] });
    const runner = client.chat.completions.stream({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }],
    });
    const final = await runner.finalChatCompletion();
    expect(final.choices[0].finish_reason).toBe('tool_calls');
    expect(final.choices[0].message.tool_calls?.[0]).toMatchObject({
      id: 'call_a',
      function: { name: 'f', arguments: '{"q":"x"}' },
    });
  });

  it('embeddings.create', async () => {
    const res = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: ['a', 'b'],
      dimensions: 4,
      encoding_format: 'float',
    });
    expect(res.data.map((d) => d.embedding.length)).toEqual([4, 4]);
  });

  it('errors: 429 with Retry-After arrives as the SDK RateLimitError', async () => {
    up.enqueue({ fault: { type: 'status', status: 429, retryAfter: '1' } });
    const err = await client.chat.completions
      .create({ model: 'm', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect((err as InstanceType<typeof OpenAI.RateLimitError>).headers.get('retry-after')).toBe('1');
  });

  it('records every request and applies a per-request behaviour function', async () => {
    up.setBehaviour((req) =>
      req.model === 'broken' ? { fault: { type: 'status', status: 503 } } : { text: `echo ${req.model}` },
    );
    const ok = await client.chat.completions.create({
      model: 'good',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(ok.choices[0].message.content).toBe('echo good');
    const err = await client.chat.completions
      .create({ model: 'broken', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    expect(up.requests.map((r) => [r.vendor, r.operation, r.model])).toEqual([
      ['openai', 'chat', 'good'],
      ['openai', 'chat', 'broken'],
    ]);
  });
});
