import type { Usage } from '@app/providers';

/**
 * The usage of the recorded extended-thinking stream (libs/providers anthropic
 * `__fixtures__/stream-thinking.sse`) in the canonical form, and as Anthropic reports it.
 */
export const THINKING_USAGE: Usage = {
  prompt_tokens: 12 + 2048 + 4096,
  completion_tokens: 97,
  total_tokens: 12 + 2048 + 4096 + 97,
  prompt_tokens_details: { cached_tokens: 4096 },
  cache_creation_input_tokens: 2048,
};

export const THINKING_MESSAGES_USAGE = {
  input_tokens: 12,
  output_tokens: 97,
  cache_creation_input_tokens: 2048,
  cache_read_input_tokens: 4096,
};
