import { randomBytes } from 'node:crypto';
import type { AssistantResponseMessage, ChatResponse, FinishReason, Usage } from '@app/providers';
import type { ResponsesRequest } from './responses-request';
import type { OutputItem, ResponseObject, ResponseStatus, ResponseUsageWire } from './responses.types';

/** Ids of a response and its items (injected in tests, random otherwise). */
export interface ResponseIds {
  next(prefix: 'resp' | 'msg' | 'fc'): string;
}

/** OpenAI's form: a prefix and 48 hex digits. */
export const randomIds: ResponseIds = { next: (prefix) => `${prefix}_${randomBytes(24).toString('hex')}` };

/**
 * What a response says about its request, fixed before the model answers: the `response`
 * object of `response.created`, and of every later event, starts from it.
 */
export function responseShell(
  req: ResponsesRequest,
  id: string,
  createdAt: number,
  model: string,
): ResponseObject {
  return {
    id,
    object: 'response',
    created_at: createdAt,
    status: 'in_progress',
    background: false,
    error: null,
    incomplete_details: null,
    instructions: req.instructions,
    max_output_tokens: req.max_output_tokens,
    metadata: req.metadata,
    model,
    output: [],
    parallel_tool_calls: req.parallel_tool_calls ?? true,
    previous_response_id: req.previous_response_id,
    reasoning: { effort: null, summary: null },
    store: req.store,
    temperature: req.temperature ?? 1,
    text: { format: req.text_format },
    tool_choice: req.tool_choice ?? 'auto',
    tools: req.tools,
    top_p: req.top_p ?? 1,
    truncation: 'disabled',
    usage: null,
    user: req.user,
  };
}

/** Canonical usage in the Responses shape. */
export function usageWire(usage: Usage): ResponseUsageWire {
  return {
    input_tokens: usage.prompt_tokens,
    input_tokens_details: { cached_tokens: usage.prompt_tokens_details?.cached_tokens ?? 0 },
    output_tokens: usage.completion_tokens,
    output_tokens_details: { reasoning_tokens: usage.completion_tokens_details?.reasoning_tokens ?? 0 },
    total_tokens: usage.prompt_tokens + usage.completion_tokens,
  };
}

/** How a finished answer ends: cut by the token limit or a content filter is `incomplete`. */
export function endOf(finish: FinishReason | null): Pick<ResponseObject, 'status' | 'incomplete_details'> {
  if (finish === 'length')
    return { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } };
  if (finish === 'content_filter') {
    return { status: 'incomplete', incomplete_details: { reason: 'content_filter' } };
  }
  return { status: 'completed', incomplete_details: null };
}

/**
 * An assistant message as output items: one `message` (its text, or its refusal) and one
 * `function_call` per tool call, in that order. A turn with neither still has its (empty)
 * message, so `output_text` is always defined for the client.
 */
export function outputItems(
  message: AssistantResponseMessage,
  ids: ResponseIds,
  status: ResponseStatus,
): OutputItem[] {
  const itemStatus = status === 'completed' ? 'completed' : 'incomplete';
  const items: OutputItem[] = [];
  const text = message.content ?? '';
  const calls = message.tool_calls ?? [];
  if (text || message.refusal || !calls.length) {
    items.push({
      type: 'message',
      id: ids.next('msg'),
      role: 'assistant',
      status: itemStatus,
      content: message.refusal
        ? [{ type: 'refusal', refusal: message.refusal }]
        : [{ type: 'output_text', text, annotations: [], logprobs: [] }],
    });
  }
  for (const call of calls) {
    items.push({
      type: 'function_call',
      id: ids.next('fc'),
      call_id: call.id,
      name: call.function.name,
      arguments: call.function.arguments,
      status: 'completed',
    });
  }
  return items;
}

/** A completed chat call as the `response` object. */
export function fromChatResponse(shell: ResponseObject, res: ChatResponse, ids: ResponseIds): ResponseObject {
  const choice = res.choices[0];
  const end = endOf(choice?.finish_reason ?? null);
  const message = choice?.message ?? { role: 'assistant' as const, content: '' };
  return {
    ...shell,
    ...end,
    output: outputItems(message, ids, end.status),
    usage: usageWire(res.usage),
  };
}
