import type { ChatChunk, ThinkingDelta, ToolCallDelta, Usage } from '@app/providers';
import {
  messageId,
  type MessagesUsage,
  type StopReason,
  toMessagesUsage,
  toStopReason,
} from './messages-response';

/** One server-sent event of the Messages API stream: `event: <name>` and its JSON `data`. */
export interface MessagesEvent {
  event: string;
  data: Record<string, unknown>;
}

/** The content block being streamed: Anthropic's blocks never interleave, so one is open at a time. */
type OpenBlock = { kind: 'text' } | { kind: 'tool'; key: number } | { kind: 'thinking'; key: number };

const ZERO_USAGE: MessagesUsage = {
  input_tokens: 0,
  output_tokens: 0,
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: 0,
};

/**
 * Renders canonical chunks as Anthropic's event sequence (pure: chunks in, events out):
 *
 *   message_start → (content_block_start → [ping after the first] → content_block_delta* →
 *   content_block_stop)* → message_delta → message_stop
 *
 * Deltas open and close blocks as their kind changes: `thinking_delta` / `signature_delta` for
 * thinking, `text_delta` for text, `input_json_delta` for a tool call's arguments. The usage is
 * known only at the end of the canonical stream, so `message_start` reports zero tokens and
 * `message_delta` carries the final counts (input, output and cache), which the SDKs take as
 * the message's usage.
 */
export class MessagesStreamRenderer {
  private started = false;
  private pinged = false;
  private index = -1;
  private open: OpenBlock | null = null;
  private stopReason: StopReason | null = null;
  private refused = false;
  private usage: Usage | null = null;

  constructor(private readonly model: string) {}

  /** The events one canonical chunk makes. */
  chunk(chunk: ChatChunk): MessagesEvent[] {
    const out: MessagesEvent[] = [];
    if (!this.started) out.push(this.messageStart(chunk.id));
    if (chunk.usage) this.usage = chunk.usage;
    const choice = chunk.choices[0];
    if (!choice) return out;
    const d = choice.delta;
    for (const t of d.thinking_blocks ?? []) this.thinking(t, out);
    if (d.content) this.text(d.content, out);
    if (d.refusal) {
      this.refused = true;
      this.text(d.refusal, out);
    }
    for (const t of d.tool_calls ?? []) this.toolCall(t, out);
    if (choice.finish_reason) {
      this.stopReason = this.refused ? 'refusal' : toStopReason(choice.finish_reason);
      this.close(out);
    }
    return out;
  }

  /** The closing events, once the canonical stream ended (and the call was recorded). */
  finish(fallbackId = 'msg_atp'): MessagesEvent[] {
    const out: MessagesEvent[] = [];
    if (!this.started) out.push(this.messageStart(fallbackId));
    this.close(out);
    const usage = this.usage ? toMessagesUsage(this.usage) : ZERO_USAGE;
    out.push({
      event: 'message_delta',
      data: {
        type: 'message_delta',
        delta: { stop_reason: this.stopReason ?? 'end_turn', stop_sequence: null },
        usage,
      },
    });
    out.push({ event: 'message_stop', data: { type: 'message_stop' } });
    return out;
  }

  private messageStart(id: string): MessagesEvent {
    this.started = true;
    const message = {
      id: messageId(id),
      type: 'message',
      role: 'assistant',
      model: this.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: ZERO_USAGE,
    };
    return { event: 'message_start', data: { type: 'message_start', message } };
  }

  private begin(block: OpenBlock, contentBlock: Record<string, unknown>, out: MessagesEvent[]): void {
    this.close(out);
    this.index++;
    this.open = block;
    out.push({
      event: 'content_block_start',
      data: { type: 'content_block_start', index: this.index, content_block: contentBlock },
    });
    if (!this.pinged) {
      this.pinged = true;
      out.push({ event: 'ping', data: { type: 'ping' } });
    }
  }

  private close(out: MessagesEvent[]): void {
    if (!this.open) return;
    out.push({ event: 'content_block_stop', data: { type: 'content_block_stop', index: this.index } });
    this.open = null;
  }

  private delta(delta: Record<string, unknown>, out: MessagesEvent[]): void {
    out.push({
      event: 'content_block_delta',
      data: { type: 'content_block_delta', index: this.index, delta },
    });
  }

  private thinking(t: ThinkingDelta, out: MessagesEvent[]): void {
    const current = this.open?.kind === 'thinking' && this.open.key === t.index;
    if (!current && (t.type === 'redacted_thinking' || t.data !== undefined)) {
      this.begin({ kind: 'thinking', key: t.index }, { type: 'redacted_thinking', data: t.data ?? '' }, out);
      return;
    }
    if (!current)
      this.begin({ kind: 'thinking', key: t.index }, { type: 'thinking', thinking: '', signature: '' }, out);
    if (t.thinking) this.delta({ type: 'thinking_delta', thinking: t.thinking }, out);
    if (t.signature) this.delta({ type: 'signature_delta', signature: t.signature }, out);
  }

  private text(text: string, out: MessagesEvent[]): void {
    if (this.open?.kind !== 'text') this.begin({ kind: 'text' }, { type: 'text', text: '' }, out);
    this.delta({ type: 'text_delta', text }, out);
  }

  private toolCall(t: ToolCallDelta, out: MessagesEvent[]): void {
    if (this.open?.kind !== 'tool' || this.open.key !== t.index) {
      const block = {
        type: 'tool_use',
        id: t.id ?? `toolu_atp_${t.index}`,
        name: t.function?.name ?? '',
        input: {},
      };
      this.begin({ kind: 'tool', key: t.index }, block, out);
    }
    const args = t.function?.arguments;
    if (args) this.delta({ type: 'input_json_delta', partial_json: args }, out);
  }
}
