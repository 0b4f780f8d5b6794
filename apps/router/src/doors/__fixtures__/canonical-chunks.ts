import type { ChatChunk, ChunkDelta, FinishReason, Usage } from '@app/providers';

/** Builds the canonical stream chunks a door renders; each spec stamps its own id and model. */
export interface ChunkMaker {
  chunk(delta: ChunkDelta, finish?: FinishReason | null): ChatChunk;
  /** The closing usage-only chunk (no choices), as the stream mappers end a stream. */
  usageChunk(usage: Usage): ChatChunk;
}

export function chunkMaker(id: string, model: string): ChunkMaker {
  const chunk = (delta: ChunkDelta, finish: FinishReason | null = null): ChatChunk => ({
    id,
    object: 'chat.completion.chunk',
    created: 1,
    model,
    choices: [{ index: 0, delta, finish_reason: finish }],
  });
  return { chunk, usageChunk: (usage) => ({ ...chunk({}), choices: [], usage }) };
}

/**
 * What the Anthropic stream mapper makes of Anthropic's own recorded tool-use stream
 * (libs/providers/src/anthropic/__fixtures__/stream-tool-use.sse): text, then a tool_use block
 * whose input arrives as JSON pieces, stop_reason tool_use, usage 472 in / 89 out.
 */
export function anthropicToolUseChunks({ chunk, usageChunk }: ChunkMaker): ChatChunk[] {
  return [
    chunk({ role: 'assistant', content: '' }),
    chunk({ content: 'Okay' }),
    chunk({ content: ", let's check the weather." }),
    chunk({
      tool_calls: [
        {
          index: 0,
          id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6',
          type: 'function',
          function: { name: 'get_weather', arguments: '' },
        },
      ],
    }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '{"location":' } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: ' "San Francisco, CA"}' } }] }),
    chunk({}, 'tool_calls'),
    usageChunk({ prompt_tokens: 472, completion_tokens: 89, total_tokens: 561 }),
  ];
}
