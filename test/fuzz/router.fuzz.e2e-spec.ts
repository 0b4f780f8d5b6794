import { describeFuzz, someUuid } from './fuzz-service';

const user = { role: 'user', content: 'Hello, my email is jane@example.com' };

describeFuzz({
  service: 'router',
  pathValues: { id: [someUuid] },
  bodyExamples: {
    'POST /v1/chat/completions': [
      { model: 'mock-1', messages: [user] },
      { model: 'mock-1', messages: [{ role: 'system', content: 'be brief' }, user], stream: true },
      { model: 'auto', messages: [user], max_tokens: 5, temperature: 0.2, stop: ['x'] },
      {
        model: 'mock-1',
        messages: [user],
        tools: [
          { type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } },
        ],
        tool_choice: 'auto',
      },
      { model: 'mock-1', messages: [user], response_format: { type: 'json_object' } },
      {
        model: 'mock-1',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'see' },
              { type: 'image_url', image_url: { url: 'https://example.com/a.png' } },
            ],
          },
        ],
      },
      { model: 'gpt-4o-mini', messages: [user] },
    ],
    'POST /v1/embeddings': [
      { model: 'mock-embedding', input: 'hello' },
      { model: 'mock-embedding', input: ['a', 'b'] },
      { model: 'mock-embedding', input: [[1, 2, 3]] },
    ],
    'POST /v1/admin/api-keys': [{ name: 'fuzz', scopes: ['llm'] }],
    'PUT /v1/admin/limits': [{}, { rpm: 1_000_000, tpm: 1_000_000_000 }],
  },
  async afterwards(url, key) {
    // leave limits off, then a chat call must still work
    await fetch(`${url}/v1/admin/limits`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: '{}',
    });
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mock-1', messages: [{ role: 'user', content: 'still there?' }] }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { object: string }).object).toBe('chat.completion');
  },
});
