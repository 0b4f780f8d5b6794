import type { ChatMessage, ChatRequest, EmbeddingRequest } from '@app/providers';

/**
 * An upper bound on the prompt tokens any vendor can bill for a request — what a budget reserves
 * before the call, so that "recorded spend ≤ budget" holds whatever the text is.
 *
 * Why UTF-8 bytes bound tokens:
 * - Byte-level BPE (OpenAI's cl100k/o200k, Anthropic's): every token is a sequence of ≥ 1 bytes of
 *   the input, and the tokens of a text concatenate back to its bytes, so tokens ≤ bytes.
 * - SentencePiece (Gemini/Gemma) with byte fallback: a token is a vocabulary piece (≥ 1 character,
 *   so ≥ 1 byte) or a byte-fallback token (exactly 1 byte), so again tokens ≤ bytes; an unknown
 *   character without byte fallback is one `<unk>` token (≤ its bytes). The one token that covers
 *   no input byte is the dummy-prefix `▁` at the start of a segment: the per-message overhead
 *   covers it.
 * The vendor also adds tokens the text does not contain: role markers and separators per message
 * (OpenAI documents 3–4, plus 1 for `name`), reply priming per request (3), the rendering of tool
 * definitions (a TypeScript-like rewrite of the JSON schema — never longer than the JSON, plus a
 * few lines per tool) and Anthropic's tool-use system prompt (up to 346 tokens when tools are
 * offered). The constants below cover each with margin.
 *
 * Images are not text: a vendor bills them by their pixel size, which the gateway does not decode
 * (and a URL's image is not even fetched). The bound per image is the largest any supported vendor
 * documents: gpt-4o-mini bills a high-detail image at 2,833 + 5,667 per 512 px tile, up to 8 tiles
 * = 48,169 tokens (gpt-4o: 1,445; Claude ≈ 1,600; Gemini 258 per 768 px tile).
 */
export const PROMPT_BOUND = {
  perRequest: 16,
  perMessage: 16,
  perTool: 64,
  /** Once per request that offers tools (Anthropic's tool-use system prompt is 313–346 tokens). */
  toolsPresent: 512,
  perImage: 50_000,
} as const;

const bytes = (s: string | null | undefined): number => (s ? Buffer.byteLength(s, 'utf8') : 0);

function messageBound(m: ChatMessage): number {
  let tokens = PROMPT_BOUND.perMessage + bytes(m.role) + bytes('name' in m ? m.name : undefined);
  const content = m.content;
  if (typeof content === 'string') tokens += bytes(content);
  else if (Array.isArray(content)) {
    for (const part of content)
      tokens +=
        part.type === 'text' ? bytes(part.text) : PROMPT_BOUND.perImage + bytes(part.image_url.detail);
  }
  if (m.role === 'assistant') {
    tokens += bytes(m.refusal);
    // Thinking blocks sent back (Messages API tool-use loops) may be billed as input.
    for (const t of m.thinking_blocks ?? [])
      tokens += PROMPT_BOUND.perMessage + (t.type === 'thinking' ? bytes(t.thinking) : bytes(t.data));
    for (const call of m.tool_calls ?? [])
      tokens +=
        PROMPT_BOUND.perMessage + bytes(call.id) + bytes(call.function.name) + bytes(call.function.arguments);
  }
  if (m.role === 'tool') tokens += bytes(m.tool_call_id);
  return tokens;
}

/** Prompt tokens a chat request can be billed for, at most (see PROMPT_BOUND). */
export function chatPromptTokenBound(req: ChatRequest): number {
  let tokens = PROMPT_BOUND.perRequest;
  for (const m of req.messages) tokens += messageBound(m);
  if (req.tools?.length) {
    tokens += PROMPT_BOUND.toolsPresent;
    for (const t of req.tools) tokens += PROMPT_BOUND.perTool + bytes(JSON.stringify(t));
  }
  if (req.tool_choice && typeof req.tool_choice === 'object')
    tokens += bytes(JSON.stringify(req.tool_choice));
  // Structured outputs put the schema in the prompt.
  if (req.response_format) tokens += bytes(JSON.stringify(req.response_format));
  return tokens;
}

/** Input tokens an embeddings request can be billed for, at most: bytes of text, or the token ids sent. */
export function embeddingTokenBound(req: EmbeddingRequest): number {
  const input = req.input;
  if (typeof input === 'string') return bytes(input) + 1;
  let tokens = 0;
  for (const item of input) {
    if (typeof item === 'string') tokens += bytes(item) + 1;
    else if (typeof item === 'number') tokens += 1;
    else tokens += item.length;
  }
  return tokens;
}
