import type { FakeBehaviour, RecordedRequest } from '@app/providers/testing';

/**
 * Prompts that tokenize far denser than "4 characters per token": English prose, Chinese, code
 * and digits, each about 200 characters.
 */
export const BUDGET_PROMPTS: Record<string, string> = {
  english:
    'Please summarise the quarterly report for the board. Keep it short, name the three largest ' +
    'risks, and say which of them the finance team can act on before the end of the next month.',
  chinese:
    '请为董事会总结季度报告。保持简短，列出三个最大的风险，并说明财务团队可以在下个月底之前处理哪些风险。' +
    '预算不能超支，每一笔费用都要记录在案，所有的数字都必须经过审核并由负责人签字确认后才能提交。' +
    '如果有任何问题，请尽快联系项目经理，以便我们及时调整计划并通知所有相关部门和合作伙伴。',
  code:
    'function f(a,b){for(let i=0;i<a.length;i++){if(a[i]!==b[i])return i;}return -1;}\n' +
    'const x={k:[1,2,3],m:new Map([[1,"a"]])};console.log(f(x.k,[1,2,4]),x.m.get(1)??"");//{}[]()<>',
  digits:
    '3141592653589793238462643383279502884197169399375105820974944592307816406286208998628034825342' +
    '11706798214808651328230664709384460955058223172535940812848111745028410270193852110555964462294',
};

/** Price of the test model, USD per token, input and output alike. */
export const PRICE_PER_TOKEN = 0.001;
export const MAX_TOKENS = 20;

/** `bound-model`: $0.001 per input and per output token, so a call's cost is its token count in mUSD. */
export const BOUND_ROUTING_YAML = `
models:
  - id: bound-model
    provider: openai
    upstream: gpt-bound
    input_per_1m: 1000
    output_per_1m: 1000
    max_output_tokens: 64
`;

const utf8 = (s: unknown) => (typeof s === 'string' ? Buffer.byteLength(s, 'utf8') : 0);

/**
 * A vendor that bills as much as any real tokenizer could: one prompt token per UTF-8 byte of
 * every message (the most a byte-level BPE can produce), plus OpenAI's documented framing (3 per
 * message, 3 for the reply), and the full max_tokens of completion.
 */
export function adversarialUsage(req: RecordedRequest): FakeBehaviour {
  const messages = (req.body?.messages ?? []) as { role: string; content: unknown }[];
  let prompt = 3;
  for (const m of messages) prompt += 3 + utf8(m.role) + utf8(m.content);
  const completion = Number(req.body?.max_completion_tokens ?? req.body?.max_tokens ?? 64);
  return { latencyMs: 50, usage: { prompt, completion } };
}

/** What that vendor bills for one call with this prompt, in USD. */
export function adversarialCostUsd(prompt: string): number {
  return (3 + 3 + utf8('user') + utf8(prompt) + MAX_TOKENS) * PRICE_PER_TOKEN;
}

export const chatBody = (prompt: string) => ({
  model: 'bound-model',
  max_tokens: MAX_TOKENS,
  messages: [{ role: 'user', content: prompt }],
});
