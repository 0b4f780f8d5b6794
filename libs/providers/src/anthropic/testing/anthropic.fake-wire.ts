import { sse, type FakeFinish, type FakeReply } from '../../testing/fake-wire.common';

/** Anthropic Messages API bodies and SSE events. */
const ANTHROPIC_STOP: Record<FakeFinish, string> = {
  stop: 'end_turn',
  length: 'max_tokens',
  content_filter: 'refusal',
};

function anthropicStop(r: FakeReply): string {
  return r.toolCalls.length ? 'tool_use' : ANTHROPIC_STOP[r.finish];
}

function anthropicUsage(r: FakeReply, output?: number) {
  const u = r.usage || { prompt: 0, completion: 0 };
  return {
    input_tokens: u.prompt,
    output_tokens: output ?? u.completion,
    cache_creation_input_tokens: u.cacheWrite ?? 0,
    cache_read_input_tokens: u.cacheRead ?? 0,
  };
}

const signatureOf = (r: FakeReply) => `sig-${r.id}`;

export function anthropicMessage(r: FakeReply): unknown {
  const content: unknown[] = [];
  if (r.thinking !== null)
    content.push({ type: 'thinking', thinking: r.thinking, signature: signatureOf(r) });
  if (r.pieces.length && !r.toolCalls.length) content.push({ type: 'text', text: r.pieces.join('') });
  for (const c of r.toolCalls) content.push({ type: 'tool_use', id: c.id, name: c.name, input: c.arguments });
  return {
    id: r.id,
    type: 'message',
    role: 'assistant',
    model: r.model,
    content,
    stop_reason: anthropicStop(r),
    stop_sequence: null,
    usage: anthropicUsage(r),
  };
}

export function anthropicStream(r: FakeReply): string[] {
  const out = [
    sse(
      {
        type: 'message_start',
        message: {
          ...(anthropicMessage(r) as object),
          content: [],
          stop_reason: null,
          usage: anthropicUsage(r, 1),
        },
      },
      'message_start',
    ),
  ];
  let index = 0;
  if (r.thinking !== null) {
    out.push(
      sse(
        {
          type: 'content_block_start',
          index,
          content_block: { type: 'thinking', thinking: '', signature: '' },
        },
        'content_block_start',
      ),
    );
    for (const thinking of r.thinking.split(/(?<=\s)/))
      out.push(
        sse(
          { type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking } },
          'content_block_delta',
        ),
      );
    out.push(
      sse(
        { type: 'content_block_delta', index, delta: { type: 'signature_delta', signature: signatureOf(r) } },
        'content_block_delta',
      ),
    );
    out.push(sse({ type: 'content_block_stop', index }, 'content_block_stop'));
    index++;
  }
  if (!r.toolCalls.length) {
    out.push(
      sse(
        { type: 'content_block_start', index, content_block: { type: 'text', text: '' } },
        'content_block_start',
      ),
    );
    out.push(sse({ type: 'ping' }, 'ping'));
    for (const text of r.pieces)
      out.push(
        sse(
          { type: 'content_block_delta', index, delta: { type: 'text_delta', text } },
          'content_block_delta',
        ),
      );
    out.push(sse({ type: 'content_block_stop', index }, 'content_block_stop'));
    index++;
  }
  for (const c of r.toolCalls) {
    const args = JSON.stringify(c.arguments);
    const half = Math.ceil(args.length / 2);
    out.push(
      sse(
        {
          type: 'content_block_start',
          index,
          content_block: { type: 'tool_use', id: c.id, name: c.name, input: {} },
        },
        'content_block_start',
      ),
    );
    for (const partial_json of [args.slice(0, half), args.slice(half)]) {
      out.push(
        sse(
          { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json } },
          'content_block_delta',
        ),
      );
    }
    out.push(sse({ type: 'content_block_stop', index }, 'content_block_stop'));
    index++;
  }
  const usage = { output_tokens: r.usage ? r.usage.completion : 0 };
  out.push(
    sse(
      { type: 'message_delta', delta: { stop_reason: anthropicStop(r), stop_sequence: null }, usage },
      'message_delta',
    ),
  );
  out.push(sse({ type: 'message_stop' }, 'message_stop'));
  return out;
}

export function anthropicError(status: number): unknown {
  const type =
    status === 429
      ? 'rate_limit_error'
      : status === 529
        ? 'overloaded_error'
        : status >= 500
          ? 'api_error'
          : status === 401
            ? 'authentication_error'
            : 'invalid_request_error';
  return { type: 'error', error: { type, message: `fake upstream error (${status})` } };
}

export function anthropicStreamError(): string {
  return sse({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }, 'error');
}
