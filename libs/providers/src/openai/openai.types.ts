import type { ChatChunk, ChatRequest, ChatResponse, EmbeddingResponse } from '../openai-types';

/** OpenAI's wire format is the gateway's own format; these aliases name the wire side. */
export type OpenAiChatRequest = ChatRequest;
export type OpenAiChatCompletion = ChatResponse;
export type OpenAiChatChunk = ChatChunk;
export type OpenAiEmbeddingResponse = EmbeddingResponse;

/** `{"error": {...}}` body of a non-2xx answer, also sent inside a stream by some servers. */
export interface OpenAiErrorBody {
  error: { message: string; type?: string; param?: string | null; code?: string | null };
}
