/**
 * What the governance suites need to know about each door, in one table: how to ask it for a
 * model call, where the answer's text is, and the error code it reports (ATP's `code`, where the
 * door's error shape has one). Tests iterate it with `describe.each(DOOR_CASES)`.
 */

/** A response body as the tests read it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Body = any;

export interface DoorCase {
  door: string;
  path: string;
  body(model: string, prompt: string, opts?: { stream?: boolean; maxTokens?: number }): object;
  headers?: Record<string, string>;
  /** What a complete stream of this door ends with. */
  streamEnd?: string;
  text(body: Body): string;
  errorCode(body: Body): string | undefined;
}

/** Messages API calls need max_tokens: this one, when a test leaves it to the model's cap. */
const MESSAGES_MAX_TOKENS = 4096;

export const DOOR_CASES: DoorCase[] = [
  {
    door: 'chat',
    path: '/v1/chat/completions',
    streamEnd: 'data: [DONE]',
    body: (model, prompt, opts = {}) => ({
      model,
      messages: [{ role: 'user', content: prompt }],
      ...(opts.maxTokens !== undefined ? { max_tokens: opts.maxTokens } : {}),
      ...(opts.stream ? { stream: true } : {}),
    }),
    text: (body) => body.choices[0].message.content ?? '',
    errorCode: (body) => body.error?.code ?? undefined,
  },
  {
    door: 'messages',
    path: '/v1/messages',
    headers: { 'anthropic-version': '2023-06-01' },
    streamEnd: 'event: message_stop',
    body: (model, prompt, opts = {}) => ({
      model,
      max_tokens: opts.maxTokens ?? MESSAGES_MAX_TOKENS,
      messages: [{ role: 'user', content: prompt }],
      ...(opts.stream ? { stream: true } : {}),
    }),
    text: (body) =>
      (body.content as { type: string; text?: string }[])
        .filter((b) => b.type === 'text')
        .map((b) => b.text)
        .join(''),
    // Anthropic's error shape has a type and a message, no code.
    errorCode: () => undefined,
  },
  {
    door: 'responses',
    path: '/v1/responses',
    streamEnd: 'event: response.completed',
    body: (model, prompt, opts = {}) => ({
      model,
      input: prompt,
      // Nothing to continue in these tests: keep the database out of the way.
      store: false,
      ...(opts.stream ? { stream: true } : {}),
      ...(opts.maxTokens !== undefined ? { max_output_tokens: opts.maxTokens } : {}),
    }),
    text: (body) =>
      (body.output as { type: string; content?: { text?: string }[] }[])
        .flatMap((o) => (o.type === 'message' ? (o.content ?? []) : []))
        .map((c) => c.text ?? '')
        .join(''),
    errorCode: (body) => body.error?.code ?? undefined,
  },
];
