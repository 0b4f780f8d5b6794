import { describeFuzz } from './fuzz-service';

describeFuzz({
  service: 'memory-gateway',
  pathValues: { namespace: ['notes', 'ns'], key: ['k1', 'k2', 'a.b:c-d_e'] },
  bodyExamples: {
    'PUT /v1/memory/{namespace}/{key}': [
      { value: 'call me at +1 415 555 0100 or jane@example.com', tags: ['a', 'b'] },
      { value: { nested: [1, 2, { x: 'y' }] }, ttl_seconds: 60, metadata: { source: 'fuzz' } },
    ],
    'POST /v1/memory/{namespace}/search': [
      { query: 'call' },
      { query: 'jane@example.com', tags: ['a'], limit: 5 },
    ],
    'POST /v1/pii/detect': [{ text: 'card 4111 1111 1111 1111, ssn 078-05-1120' }],
    'POST /v1/pii/redact': [{ text: 'jane@example.com', mode: 'mask' }],
    'PUT /v1/admin/memory-namespaces/{namespace}': [{ pii_mode: 'hash' }, { pii_mode: null }],
  },
  async afterwards(url, key) {
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const put = await fetch(`${url}/v1/memory/after/fuzz`, {
      method: 'PUT',
      headers,
      body: JSON.stringify({ value: 'still here' }),
    });
    expect([200, 201]).toContain(put.status);
    const got = await fetch(`${url}/v1/memory/after/fuzz`, { headers });
    expect(got.status).toBe(200);
    expect(((await got.json()) as { value: unknown }).value).toBe('still here');
  },
});
