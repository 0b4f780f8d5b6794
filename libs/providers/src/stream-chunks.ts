import type { ChatChunk, ChunkDelta, FinishReason, Usage } from './openai-types';

/** What every chunk a stream translation builds carries: the stream's id, creation time and model. */
export interface StreamIdentity {
  id: string;
  created: number;
  model: string;
}

/** A chunk of choice 0 carrying `delta` (and, on the last one, the finish reason). */
export function choiceChunk(
  s: StreamIdentity,
  delta: ChunkDelta,
  finish: FinishReason | null = null,
): ChatChunk {
  return {
    id: s.id,
    object: 'chat.completion.chunk',
    created: s.created,
    model: s.model,
    choices: [{ index: 0, delta, finish_reason: finish }],
  };
}

/** The chunk that ends a stream with its usage (`choices: []`, as OpenAI sends it). */
export function usageOnlyChunk(s: StreamIdentity, usage: Usage): ChatChunk {
  return {
    id: s.id,
    object: 'chat.completion.chunk',
    created: s.created,
    model: s.model,
    choices: [],
    usage,
  };
}
