import { fakeVector, sse, type FakeFinish, type FakeReply } from '../../testing/fake-wire.common';

/** OpenAI chat completion bodies, `chat.completion.chunk` SSE events and embeddings. */
const OPENAI_FINISH: Record<FakeFinish, string> = {
  stop: 'stop',
  length: 'length',
  content_filter: 'content_filter',
};

function openaiFinish(r: FakeReply): string {
  return r.toolCalls.length ? 'tool_calls' : OPENAI_FINISH[r.finish];
}

function openaiUsage(r: FakeReply) {
  if (!r.usage) return undefined;
  const { completion, cacheRead = 0 } = r.usage;
  // OpenAI counts cached tokens inside prompt_tokens.
  const prompt = r.usage.prompt + cacheRead;
  const usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  return cacheRead ? { ...usage, prompt_tokens_details: { cached_tokens: cacheRead } } : usage;
}

export function openaiCompletion(r: FakeReply, created: number): unknown {
  const toolCalls = r.toolCalls.map((c) => ({
    id: c.id,
    type: 'function',
    function: { name: c.name, arguments: JSON.stringify(c.arguments) },
  }));
  return {
    id: r.id,
    object: 'chat.completion',
    created,
    model: r.model,
    system_fingerprint: 'fp_fake',
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: toolCalls.length ? null : r.pieces.join(''),
          refusal: null,
          ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
        },
        logprobs: null,
        finish_reason: openaiFinish(r),
      },
    ],
    ...(r.usage ? { usage: openaiUsage(r) } : {}),
    service_tier: 'default',
  };
}

export function openaiStream(r: FakeReply, created: number, includeUsage: boolean): string[] {
  const head = {
    id: r.id,
    object: 'chat.completion.chunk',
    created,
    model: r.model,
    system_fingerprint: 'fp_fake',
  };
  const ev = (delta: unknown, finish: string | null = null) =>
    sse({ ...head, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] });
  const out = [ev({ role: 'assistant', content: '', refusal: null })];
  if (!r.toolCalls.length) for (const p of r.pieces) out.push(ev({ content: p }));
  r.toolCalls.forEach((c, index) => {
    const args = JSON.stringify(c.arguments);
    const half = Math.ceil(args.length / 2);
    out.push(
      ev({ tool_calls: [{ index, id: c.id, type: 'function', function: { name: c.name, arguments: '' } }] }),
    );
    out.push(ev({ tool_calls: [{ index, function: { arguments: args.slice(0, half) } }] }));
    out.push(ev({ tool_calls: [{ index, function: { arguments: args.slice(half) } }] }));
  });
  out.push(ev({}, openaiFinish(r)));
  if (includeUsage && r.usage) out.push(sse({ ...head, choices: [], usage: openaiUsage(r) }));
  out.push('data: [DONE]\n\n');
  return out;
}

export function openaiError(status: number): unknown {
  const type =
    status === 429 ? 'rate_limit_exceeded' : status >= 500 ? 'server_error' : 'invalid_request_error';
  return { error: { message: `fake upstream error (${status})`, type, param: null, code: null } };
}

export function openaiStreamError(): string {
  return sse({
    error: { message: 'fake upstream stream error', type: 'server_error', param: null, code: null },
  });
}

export function openaiEmbeddings(model: string, inputs: string[], dims: number): unknown {
  const tokens = inputs.reduce((n, t) => n + Math.ceil(t.length / 4), 0);
  return {
    object: 'list',
    data: inputs.map((t, index) => ({ object: 'embedding', index, embedding: fakeVector(t, dims) })),
    model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}
