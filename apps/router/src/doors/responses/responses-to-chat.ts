import { AtpError } from '@app/common';
import type { ChatMessage, ChatRequest, ContentPart, TextContentPart } from '@app/providers';
import type { ResponsesRequest } from './responses-request';
import type { ConversationItem, InputTextPart, MessageItem, MessagePart } from './responses.types';

/**
 * A Responses request → the canonical chat request every vendor adapter speaks. Every text a
 * client sent lands where the canonical request keeps text (message content, tool results), so
 * the prompt PII policy sees all of it. `history` is the stored conversation that
 * `previous_response_id` continues (its instructions are not carried over, as at OpenAI).
 */
export function toChatRequest(req: ResponsesRequest, history: ConversationItem[]): ChatRequest {
  const messages: ChatMessage[] = [];
  if (req.instructions) messages.push({ role: 'system', content: req.instructions });
  const calls = new Set<string>();
  for (const item of history) appendItem(messages, item, calls, null);
  req.input.forEach((item, i) => appendItem(messages, item, calls, `input[${i}]`));
  if (!messages.some((m) => m.role !== 'system')) {
    throw AtpError.badRequest('invalid_request', "Missing required parameter: 'input'", 'input');
  }
  const chat: ChatRequest = { model: req.model, messages };
  if (req.stream) {
    chat.stream = true;
    chat.stream_options = { include_usage: true };
  }
  if (req.max_output_tokens !== null) chat.max_completion_tokens = req.max_output_tokens;
  if (req.temperature !== null) chat.temperature = req.temperature;
  if (req.top_p !== null) chat.top_p = req.top_p;
  if (req.user !== null) chat.user = req.user;
  if (req.tools.length) {
    chat.tools = req.tools.map((t) => ({
      type: 'function',
      function: {
        name: t.name,
        ...(t.description ? { description: t.description } : {}),
        ...(t.parameters ? { parameters: t.parameters } : {}),
        ...(t.strict !== null ? { strict: t.strict } : {}),
      },
    }));
    // OpenAI refuses parallel_tool_calls on a request without tools.
    if (req.parallel_tool_calls !== null) chat.parallel_tool_calls = req.parallel_tool_calls;
  }
  if (req.tool_choice !== null) {
    chat.tool_choice =
      typeof req.tool_choice === 'string'
        ? req.tool_choice
        : { type: 'function', function: { name: req.tool_choice.name } };
  }
  const format = req.text_format;
  if (format.type === 'json_object') chat.response_format = { type: 'json_object' };
  if (format.type === 'json_schema') {
    chat.response_format = {
      type: 'json_schema',
      json_schema: {
        name: format.name,
        schema: format.schema,
        ...(format.description !== undefined ? { description: format.description } : {}),
        ...(format.strict != null ? { strict: format.strict } : {}),
      },
    };
  }
  return chat;
}

/**
 * Appends one item. A function call joins the assistant message just before it (a model turn
 * is one assistant message with text and tool calls in chat completions); a function output
 * must answer a call made earlier in the conversation, as every vendor requires.
 */
function appendItem(
  messages: ChatMessage[],
  item: ConversationItem,
  calls: Set<string>,
  param: string | null,
): void {
  if (item.type === 'message') {
    messages.push(toMessage(item));
    return;
  }
  if (item.type === 'function_call') {
    calls.add(item.call_id);
    const call = {
      id: item.call_id,
      type: 'function' as const,
      function: { name: item.name, arguments: item.arguments },
    };
    const last = messages[messages.length - 1];
    if (last?.role === 'assistant') last.tool_calls = [...(last.tool_calls ?? []), call];
    else messages.push({ role: 'assistant', content: null, tool_calls: [call] });
    return;
  }
  if (param && !calls.has(item.call_id)) {
    throw AtpError.badRequest(
      'invalid_request',
      `No function_call with call_id '${item.call_id}' precedes this function_call_output`,
      `${param}.call_id`,
    );
  }
  messages.push({
    role: 'tool',
    tool_call_id: item.call_id,
    content: typeof item.output === 'string' ? item.output : item.output.map(textPart),
  });
}

const textPart = (p: InputTextPart): TextContentPart => ({ type: 'text', text: p.text });

function toMessage(item: MessageItem): ChatMessage {
  const { role, content } = item;
  if (role === 'user') {
    return { role, content: typeof content === 'string' ? content : content.map(userPart) };
  }
  if (role === 'assistant') {
    if (typeof content === 'string') return { role, content };
    const refusal = content.map((p) => (p.type === 'refusal' ? p.refusal : '')).join('');
    return { role, content: partsText(content) || null, ...(refusal ? { refusal } : {}) };
  }
  return { role, content: typeof content === 'string' ? content : partsText(content) };
}

function userPart(p: MessagePart): ContentPart {
  if (p.type === 'input_image') {
    return { type: 'image_url', image_url: { url: p.image_url, ...(p.detail ? { detail: p.detail } : {}) } };
  }
  return { type: 'text', text: p.type === 'refusal' ? p.refusal : p.text };
}

/** The text of a message's parts, joined (refusals are not text). */
function partsText(parts: MessagePart[]): string {
  return parts.map((p) => (p.type === 'input_text' || p.type === 'output_text' ? p.text : '')).join('');
}
