import type { ChatChunk } from '../openai-types';
import { SseParser } from '../sse';
import { createStreamState, fromStreamEvent, isFinished, usageChunk } from './google.stream-mapper';

/** `alt=sse` framing as Gemini sends it: CRLF, no terminator event, usage on the last event. */
const transcript = [
  '{"candidates": [{"content": {"parts": [{"text": "The"}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 9,"totalTokenCount": 9},"modelVersion": "gemini-2.0-flash"}',
  '{"candidates": [{"content": {"parts": [{"text": " sky is blue."}],"role": "model"},"finishReason": "STOP","index": 0}],"usageMetadata": {"promptTokenCount": 9,"candidatesTokenCount": 5,"totalTokenCount": 14},"modelVersion": "gemini-2.0-flash"}',
]
  .map((d) => `data: ${d}\r\n\r\n`)
  .join('');

function run(text: string) {
  const state = createStreamState('google', {
    id: 'chatcmpl-g',
    model: 'gemini-2.0-flash',
    created: 1,
    callId: (i) => `call_${i}`,
  });
  const chunks: ChatChunk[] = [];
  for (const ev of new SseParser().feed(text)) chunks.push(...fromStreamEvent(state, ev));
  return { state, chunks };
}

describe('google stream mapper on an alt=sse transcript', () => {
  it('text pieces → content deltas; finishReason → finish chunk; last usageMetadata → usage', () => {
    const { state, chunks } = run(transcript);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('The sky is blue.');
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    expect(chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean)).toEqual(['stop']);
    expect(isFinished(state)).toBe(true);
    expect(usageChunk(state)).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 9, completion_tokens: 5, total_tokens: 14 },
    });
  });

  it('without a finishReason the stream is not finished (the adapter reports it incomplete)', () => {
    const { state } = run(transcript.split('\r\n\r\n')[0] + '\r\n\r\n');
    expect(isFinished(state)).toBe(false);
  });

  it('an error object in the stream throws a ProviderError with its status', () => {
    const err = 'data: {"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}}\r\n\r\n';
    expect(() => run(err)).toThrow(
      expect.objectContaining({ code: 'upstream_stream_error', status: 503, retryable: true }),
    );
  });
});
