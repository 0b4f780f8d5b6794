import {
  CallAbort,
  type CallContext,
  type ChatRequest,
  type ChatResponse,
  type LlmAdapter,
  type Usage,
} from '@app/providers';

/** Vendors whose API answers `n` itself; every other one gets n parallel calls. */
const NATIVE_N = new Set(['openai']);

/**
 * One chat call for `req.n` choices. OpenAI takes `n` as it is. Anthropic, Gemini, the mock and
 * openai-compatible servers (many ignore `n`) get n calls in parallel without it; their choices
 * are indexed 0..n-1 and their usage summed (each call pays for the prompt, so the sum is what
 * is billed). One failed call aborts the others and fails the attempt, which the fallback
 * retries as a whole; a client hang-up aborts them all.
 */
export async function chatWithChoices(
  adapter: LlmAdapter,
  req: ChatRequest,
  ctx: CallContext,
): Promise<ChatResponse> {
  const n = req.n ?? 1;
  if (n === 1 || NATIVE_N.has(adapter.id)) return adapter.chat(req, ctx);
  const { n: _n, ...single } = req;
  // The first failure aborts the sibling calls: their answers would be thrown away unbilled.
  const siblings = new CallAbort();
  const onAbort = () => siblings.abort(ctx.signal.reason);
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    const answers = await Promise.all(
      Array.from({ length: n }, () =>
        adapter.chat(single, { ...ctx, signal: siblings }).catch((err: unknown) => {
          siblings.abort(err);
          throw err;
        }),
      ),
    );
    return mergeChoices(answers);
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
  }
}

/** The first answer's envelope with every answer's first choice, re-indexed, and summed usage. */
export function mergeChoices(answers: ChatResponse[]): ChatResponse {
  const choices = answers.map((a, index) => ({ ...a.choices[0], index }));
  return { ...answers[0], choices, usage: sumUsage(answers.map((a) => a.usage)) };
}

export function sumUsage(usages: Usage[]): Usage {
  const sum = (f: (u: Usage) => number | undefined) => usages.reduce((t, u) => t + (f(u) ?? 0), 0);
  const usage: Usage = {
    prompt_tokens: sum((u) => u.prompt_tokens),
    completion_tokens: sum((u) => u.completion_tokens),
    total_tokens: sum((u) => u.total_tokens),
  };
  if (usages.some((u) => u.prompt_tokens_details?.cached_tokens !== undefined))
    usage.prompt_tokens_details = { cached_tokens: sum((u) => u.prompt_tokens_details?.cached_tokens) };
  if (usages.some((u) => u.completion_tokens_details?.reasoning_tokens !== undefined))
    usage.completion_tokens_details = {
      reasoning_tokens: sum((u) => u.completion_tokens_details?.reasoning_tokens),
    };
  if (usages.some((u) => u.estimated)) usage.estimated = true;
  return usage;
}
