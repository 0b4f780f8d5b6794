import type { ChatChunk, ChunkDelta, FinishReason, ToolCallDelta, Usage } from '@app/providers';
import { endOf, type ResponseIds, usageWire } from './response-object';
import type {
  OutputFunctionCall,
  OutputItem,
  OutputMessage,
  ResponseObject,
  ResponseStreamEvent,
} from './responses.types';

type Part = OutputMessage['content'][number];

interface OpenMessage {
  kind: 'message';
  index: number;
  item: OutputMessage;
  part: Part | null;
}

interface OpenCall {
  kind: 'call';
  index: number;
  item: OutputFunctionCall;
}

/** Events hold copies: the items keep changing after an event about them is written. */
const copy = <T>(value: T): T => structuredClone(value);

/**
 * Canonical chat chunks in, OpenAI Responses stream events out, in OpenAI's order:
 * `response.created`, `response.in_progress`, then per output item `output_item.added`,
 * (`content_part.added`, `output_text.delta`…, `output_text.done`, `content_part.done`) or
 * (`function_call_arguments.delta`…, `function_call_arguments.done`), `output_item.done`, and
 * last `response.completed` (or `response.incomplete` when the token limit cut the answer, or
 * `response.failed` when the stream broke). Every event carries the next `sequence_number`.
 * Pure: the door writes the events and keeps {@link response} when the stream ends.
 */
export class ResponsesStreamRenderer {
  private seq = 0;
  private readonly output: OutputItem[] = [];
  private open: OpenMessage | OpenCall | null = null;
  /** Function calls by their canonical tool call index. */
  private readonly calls = new Map<number, OpenCall>();
  private finish: FinishReason | null = null;
  private usage: Usage | null = null;
  private final: ResponseObject | null = null;

  constructor(
    private readonly shell: ResponseObject,
    private readonly ids: ResponseIds,
  ) {}

  start(): ResponseStreamEvent[] {
    return [
      this.event('response.created', { response: copy(this.shell) }),
      this.event('response.in_progress', { response: copy(this.shell) }),
    ];
  }

  chunk(chunk: ChatChunk): ResponseStreamEvent[] {
    const events: ResponseStreamEvent[] = [];
    if (chunk.usage) this.usage = chunk.usage;
    const choice = chunk.choices.find((c) => c.index === 0);
    if (!choice) return events;
    this.delta(choice.delta, events);
    if (choice.finish_reason) this.finish = choice.finish_reason;
    return events;
  }

  /** The stream ended normally: closes what is open and sends `response.completed` (or `.incomplete`). */
  end(): ResponseStreamEvent[] {
    const end = endOf(this.finish);
    const events: ResponseStreamEvent[] = [];
    // An answer with neither text nor calls still has its (empty) message, as in the JSON form.
    if (!this.output.length) this.text('output_text', '', events);
    this.close(events, end.status === 'completed' ? 'completed' : 'incomplete');
    this.final = {
      ...this.shell,
      ...end,
      output: this.output,
      usage: this.usage ? usageWire(this.usage) : null,
    };
    const type = end.status === 'completed' ? 'response.completed' : 'response.incomplete';
    events.push(this.event(type, { response: copy(this.final) }));
    return events;
  }

  /** The stream broke after it started: `response.failed` with what was produced so far. */
  fail(error: { code: string; message: string }): ResponseStreamEvent[] {
    for (const item of this.output) if (item.status === 'in_progress') item.status = 'incomplete';
    this.open = null;
    this.final = {
      ...this.shell,
      status: 'failed',
      error,
      output: this.output,
      usage: this.usage ? usageWire(this.usage) : null,
    };
    return [this.event('response.failed', { response: copy(this.final) })];
  }

  /** The response as the last event described it (null until {@link end} or {@link fail}). */
  response(): ResponseObject | null {
    return this.final;
  }

  private delta(delta: ChunkDelta, events: ResponseStreamEvent[]): void {
    if (delta.content) this.text('output_text', delta.content, events);
    if (delta.refusal) this.text('refusal', delta.refusal, events);
    for (const call of delta.tool_calls ?? []) this.toolCall(call, events);
  }

  private text(kind: Part['type'], delta: string, events: ResponseStreamEvent[]): void {
    const message = this.message(events);
    if (message.part?.type !== kind) {
      this.closePart(message, events);
      const part: Part =
        kind === 'output_text'
          ? { type: 'output_text', text: '', annotations: [], logprobs: [] }
          : { type: 'refusal', refusal: '' };
      message.item.content.push(part);
      message.part = part;
      events.push(this.event('response.content_part.added', { ...this.partRef(message), part: copy(part) }));
    }
    const part = message.part as Part;
    if (!delta) return;
    if (part.type === 'output_text') {
      part.text += delta;
      // Written out, once per content chunk: `{ ...ref, delta }` (keys added after a spread) cost
      // ~1 µs each on Node 20 (bench/README.md, "Object spreads").
      const ref = this.partRef(message);
      events.push(
        this.event('response.output_text.delta', {
          item_id: ref.item_id,
          output_index: ref.output_index,
          content_index: ref.content_index,
          delta,
          logprobs: [],
        }),
      );
    } else {
      part.refusal += delta;
      events.push(this.event('response.refusal.delta', { ...this.partRef(message), delta }));
    }
  }

  /** The open message, opened (after closing a function call) when there is none. */
  private message(events: ResponseStreamEvent[]): OpenMessage {
    if (this.open?.kind === 'message') return this.open;
    this.close(events, 'completed');
    const item: OutputMessage = {
      type: 'message',
      id: this.ids.next('msg'),
      role: 'assistant',
      status: 'in_progress',
      content: [],
    };
    const open: OpenMessage = { kind: 'message', index: this.add(item, events), item, part: null };
    this.open = open;
    return open;
  }

  /**
   * A tool call fragment. The first fragment of a call (its index is new) opens a
   * `function_call` item; vendors stream one call after the other, so it closes the item before.
   */
  private toolCall(delta: ToolCallDelta, events: ResponseStreamEvent[]): void {
    let call = this.calls.get(delta.index);
    if (!call) {
      this.close(events, 'completed');
      const id = this.ids.next('fc');
      const item: OutputFunctionCall = {
        type: 'function_call',
        id,
        call_id: delta.id ?? id.replace(/^fc_/, 'call_'),
        name: delta.function?.name ?? '',
        arguments: '',
        status: 'in_progress',
      };
      call = { kind: 'call', index: this.add(item, events), item };
      this.calls.set(delta.index, call);
      this.open = call;
    }
    const piece = delta.function?.arguments;
    if (!piece) return;
    call.item.arguments += piece;
    events.push(
      this.event('response.function_call_arguments.delta', {
        item_id: call.item.id,
        output_index: call.index,
        delta: piece,
      }),
    );
  }

  private add(item: OutputItem, events: ResponseStreamEvent[]): number {
    const index = this.output.push(item) - 1;
    events.push(this.event('response.output_item.added', { output_index: index, item: copy(item) }));
    return index;
  }

  /** Closes the open item (and its open content part). */
  private close(events: ResponseStreamEvent[], status: 'completed' | 'incomplete'): void {
    const open = this.open;
    if (!open) return;
    this.open = null;
    if (open.kind === 'message') {
      this.closePart(open, events);
    } else {
      events.push(
        this.event('response.function_call_arguments.done', {
          item_id: open.item.id,
          output_index: open.index,
          name: open.item.name,
          arguments: open.item.arguments,
        }),
      );
    }
    open.item.status = status;
    events.push(this.event('response.output_item.done', { output_index: open.index, item: copy(open.item) }));
  }

  private closePart(message: OpenMessage, events: ResponseStreamEvent[]): void {
    const part = message.part;
    if (!part) return;
    message.part = null;
    const ref = this.partRef(message, part);
    if (part.type === 'output_text') {
      events.push(this.event('response.output_text.done', { ...ref, text: part.text, logprobs: [] }));
    } else {
      events.push(this.event('response.refusal.done', { ...ref, refusal: part.refusal }));
    }
    events.push(this.event('response.content_part.done', { ...ref, part: copy(part) }));
  }

  private partRef(message: OpenMessage, part = message.part) {
    return {
      item_id: message.item.id,
      output_index: message.index,
      content_index: part ? message.item.content.indexOf(part) : message.item.content.length - 1,
    };
  }

  private event(type: string, fields: Record<string, unknown>): ResponseStreamEvent {
    return { type, sequence_number: this.seq++, ...fields };
  }
}
