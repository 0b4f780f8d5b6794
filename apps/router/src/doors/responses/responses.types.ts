/**
 * The OpenAI Responses API as this door speaks it: the items a conversation is made of (input
 * and output alike), the `response` object, and the stream events. Only what the door accepts
 * or produces is typed here; the request schema is in responses-request.ts.
 */

export interface InputTextPart {
  type: 'input_text';
  text: string;
}

export interface InputImagePart {
  type: 'input_image';
  image_url: string;
  detail?: 'auto' | 'low' | 'high';
}

export interface OutputTextPart {
  type: 'output_text';
  text: string;
  annotations: unknown[];
  logprobs?: unknown[];
}

export interface RefusalPart {
  type: 'refusal';
  refusal: string;
}

export type MessagePart = InputTextPart | InputImagePart | OutputTextPart | RefusalPart;

export interface MessageItem {
  type: 'message';
  role: 'user' | 'assistant' | 'system' | 'developer';
  content: string | MessagePart[];
  id?: string;
  status?: ItemStatus;
}

export interface FunctionCallItem {
  type: 'function_call';
  call_id: string;
  name: string;
  arguments: string;
  id?: string;
  status?: ItemStatus;
}

export interface FunctionCallOutputItem {
  type: 'function_call_output';
  call_id: string;
  output: string | InputTextPart[];
  id?: string;
}

/** An item of a conversation, in the order the model saw them (a stored response keeps these). */
export type ConversationItem = MessageItem | FunctionCallItem | FunctionCallOutputItem;

export type ItemStatus = 'in_progress' | 'completed' | 'incomplete';

/** What the model produced: an assistant message and function calls. */
export interface OutputMessage {
  type: 'message';
  id: string;
  role: 'assistant';
  status: ItemStatus;
  content: (OutputTextPart | RefusalPart)[];
}

export interface OutputFunctionCall {
  type: 'function_call';
  id: string;
  call_id: string;
  name: string;
  arguments: string;
  status: ItemStatus;
}

export type OutputItem = OutputMessage | OutputFunctionCall;

export interface FunctionToolDef {
  type: 'function';
  name: string;
  description?: string | null;
  parameters: Record<string, unknown> | null;
  strict: boolean | null;
}

export type ToolChoiceWire = 'none' | 'auto' | 'required' | { type: 'function'; name: string };

export type TextFormatWire =
  | { type: 'text' }
  | { type: 'json_object' }
  | {
      type: 'json_schema';
      name: string;
      schema: Record<string, unknown>;
      description?: string;
      strict?: boolean | null;
    };

export interface ResponseUsageWire {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export type ResponseStatus = 'in_progress' | 'completed' | 'incomplete' | 'failed';

/** The `response` object (GET /v1/responses/{id} returns it as it was created). */
export interface ResponseObject {
  id: string;
  object: 'response';
  created_at: number;
  status: ResponseStatus;
  background: false;
  error: { code: string; message: string } | null;
  incomplete_details: { reason: 'max_output_tokens' | 'content_filter' } | null;
  instructions: string | null;
  max_output_tokens: number | null;
  metadata: Record<string, string>;
  model: string;
  output: OutputItem[];
  parallel_tool_calls: boolean;
  previous_response_id: string | null;
  reasoning: { effort: null; summary: null };
  store: boolean;
  temperature: number | null;
  text: { format: TextFormatWire };
  tool_choice: ToolChoiceWire;
  tools: FunctionToolDef[];
  top_p: number | null;
  truncation: 'disabled';
  usage: ResponseUsageWire | null;
  user: string | null;
}

/** One server-sent event of a streamed response: `event: <type>` and this object as `data`. */
export interface ResponseStreamEvent {
  type: string;
  sequence_number: number;
  [field: string]: unknown;
}
