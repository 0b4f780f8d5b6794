import type { ChatChunk, FinishReason, ThinkingDelta } from '../openai-types';
import { invalidResponseError, ProviderError } from '../provider-error';
import type { SseEvent } from '../sse';
import { choiceChunk, usageOnlyChunk } from '../stream-chunks';
import type {
  AnthropicRedactedThinkingBlock,
  AnthropicResponseBlock,
  AnthropicStreamEvent,
  AnthropicThinkingBlock,
  AnthropicUsage,
} from './anthropic.types';
import { toFinishReason, toUsage } from './anthropic.mapper';

/** What the Anthropic → OpenAI chunk translation remembers between events. */
export interface AnthropicStreamState {
  provider: string;
  id: string;
  model: string;
  created: number;
  usage: Partial<AnthropicUsage>;
  /** Anthropic content block index → OpenAI tool_calls index. */
  toolIndex: Map<number, number>;
  /** Anthropic content block index → thinking_blocks index (thinking and redacted thinking). */
  thinkingIndex: Map<number, number>;
  finish: FinishReason | null;
  /** message_stop seen: the stream is complete. */
  done: boolean;
}

export function createStreamState(provider: string, model: string, created: number): AnthropicStreamState {
  return {
    provider,
    id: '',
    model,
    created,
    usage: {},
    toolIndex: new Map(),
    thinkingIndex: new Map(),
    finish: null,
    done: false,
  };
}

/** The first fragment of a thinking block (a redacted one is whole); numbers it for later deltas. */
function thinkingStart(
  s: AnthropicStreamState,
  blockIndex: number,
  block: AnthropicResponseBlock,
): ThinkingDelta {
  const index = s.thinkingIndex.size;
  s.thinkingIndex.set(blockIndex, index);
  if (block.type === 'redacted_thinking')
    return { index, type: 'redacted_thinking', data: (block as AnthropicRedactedThinkingBlock).data };
  const t = block as Partial<AnthropicThinkingBlock>;
  return {
    index,
    type: 'thinking',
    thinking: t.thinking ?? '',
    ...(t.signature ? { signature: t.signature } : {}),
  };
}

/** Anthropic's `error` event (e.g. overloaded_error mid-stream). */
function streamError(s: AnthropicStreamState, type: string, message: string): ProviderError {
  const overloaded = type === 'overloaded_error';
  return new ProviderError({
    provider: s.provider,
    status: overloaded ? 529 : type === 'rate_limit_error' ? 429 : 502,
    retryable:
      type !== 'invalid_request_error' && type !== 'authentication_error' && type !== 'permission_error',
    code: 'upstream_stream_error',
    message: `${s.provider} stream error (${type}): ${message}`,
  });
}

function parse(s: AnthropicStreamState, ev: SseEvent): AnthropicStreamEvent {
  try {
    return JSON.parse(ev.data) as AnthropicStreamEvent;
  } catch {
    throw invalidResponseError(s.provider, `stream event ${ev.event} is not valid JSON`);
  }
}

/** One SSE event → zero or more OpenAI chunks (mutates `s`). Throws ProviderError on an `error` event. */
export function fromStreamEvent(s: AnthropicStreamState, ev: SseEvent): ChatChunk[] {
  const e = parse(s, ev);
  switch (e.type) {
    case 'message_start':
      s.id = e.message.id;
      s.model = e.message.model || s.model;
      s.usage = { ...e.message.usage };
      return [choiceChunk(s, { role: 'assistant', content: '' })];
    case 'content_block_start': {
      if (e.content_block.type === 'thinking' || e.content_block.type === 'redacted_thinking')
        return [choiceChunk(s, { thinking_blocks: [thinkingStart(s, e.index, e.content_block)] })];
      if (e.content_block.type !== 'tool_use') return [];
      const block = e.content_block as { id: string; name: string };
      const index = s.toolIndex.size;
      s.toolIndex.set(e.index, index);
      return [
        choiceChunk(s, {
          tool_calls: [
            { index, id: block.id, type: 'function', function: { name: block.name, arguments: '' } },
          ],
        }),
      ];
    }
    case 'content_block_delta': {
      const d = e.delta as {
        type: string;
        text?: string;
        partial_json?: string;
        thinking?: string;
        signature?: string;
      };
      if (d.type === 'text_delta') return [choiceChunk(s, { content: d.text ?? '' })];
      const thinking = s.thinkingIndex.get(e.index);
      if (d.type === 'thinking_delta' && thinking !== undefined)
        return [choiceChunk(s, { thinking_blocks: [{ index: thinking, thinking: d.thinking ?? '' }] })];
      if (d.type === 'signature_delta' && thinking !== undefined)
        return [choiceChunk(s, { thinking_blocks: [{ index: thinking, signature: d.signature ?? '' }] })];
      const index = s.toolIndex.get(e.index);
      if (d.type === 'input_json_delta' && index !== undefined) {
        return [choiceChunk(s, { tool_calls: [{ index, function: { arguments: d.partial_json ?? '' } }] })];
      }
      return [];
    }
    case 'message_delta':
      s.usage = { ...s.usage, ...e.usage };
      s.finish = toFinishReason(e.delta.stop_reason);
      return [choiceChunk(s, {}, s.finish ?? 'stop')];
    case 'message_stop':
      s.done = true;
      return [usageOnlyChunk(s, toUsage(s.usage))];
    case 'error':
      throw streamError(s, e.error?.type ?? 'error', e.error?.message ?? 'stream error');
    default:
      // ping, content_block_stop, and event types added later
      return [];
  }
}
