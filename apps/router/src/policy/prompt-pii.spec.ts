import type { ChatRequest } from '@app/providers';
import { applyEmbeddingPii, applyPromptPii } from './prompt-pii';

const CARD = '4111 1111 1111 1111';
const body = (): ChatRequest =>
  ({
    model: 'gpt-4o-mini',
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: [{ type: 'text', text: `Mail me at jane.doe@example.com, card ${CARD}` }] },
      { role: 'user', content: 'my email is jane.doe@example.com' },
    ],
  }) as ChatRequest;

describe('prompt PII policy', () => {
  it('off passes the body through untouched', async () => {
    const b = body();
    expect(await applyPromptPii(b, 'off')).toEqual({ body: b, action: 'off', summary: [] });
  });
  it('redact rewrites every message text and counts by type, without mutating the input', async () => {
    const b = body();
    const r = await applyPromptPii(b, 'redact');
    expect(r.action).toBe('redacted');
    const text = JSON.stringify(r.body.messages);
    expect(text).not.toContain('jane.doe@example.com');
    expect(text).not.toContain(CARD);
    expect(text).toContain('<EMAIL>');
    expect(r.summary).toEqual([
      { type: 'CREDIT_CARD', count: 1 },
      { type: 'EMAIL', count: 2 },
    ]);
    expect(JSON.stringify(b.messages)).toContain('jane.doe@example.com');
  });
  it('block leaves the body as it is and reports blocked; clean prompts are none', async () => {
    expect((await applyPromptPii(body(), 'block')).action).toBe('blocked');
    const clean = { model: 'x', messages: [{ role: 'user', content: 'hello' }] } as ChatRequest;
    expect(await applyPromptPii(clean, 'block')).toEqual({ body: clean, action: 'none', summary: [] });
  });
  it('applies to embedding inputs too', async () => {
    const r = await applyEmbeddingPii({ model: 'e', input: ['ok', 'write to a@b.example.org'] }, 'redact');
    expect(r.action).toBe('redacted');
    expect(r.body.input).toEqual(['ok', 'write to <EMAIL>']);
  });
});
