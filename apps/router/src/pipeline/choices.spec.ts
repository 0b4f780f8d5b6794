import {
  CallAbort,
  type CallContext,
  type ChatRequest,
  type ChatResponse,
  type LlmAdapter,
} from '@app/providers';
import { chatWithChoices, sumUsage } from './choices';

function fakeAdapter(id: string) {
  const seen: ChatRequest[] = [];
  let calls = 0;
  const adapter = {
    id,
    chat: (req: ChatRequest): Promise<ChatResponse> => {
      seen.push(req);
      calls++;
      return Promise.resolve({
        id: `r${calls}`,
        object: 'chat.completion',
        created: 1,
        model: req.model,
        choices: [
          { index: 0, message: { role: 'assistant', content: `answer ${calls}` }, finish_reason: 'stop' },
        ],
        usage: { prompt_tokens: 10, completion_tokens: calls, total_tokens: 10 + calls },
      });
    },
  } as unknown as LlmAdapter;
  return { adapter, seen };
}

const ctx = (): CallContext => ({ signal: new CallAbort() });
const req = (n?: number): ChatRequest => ({ model: 'm', messages: [{ role: 'user', content: 'hi' }], n });

describe('chatWithChoices', () => {
  it('OpenAI and n = 1 make one call with the request as it is', async () => {
    const openai = fakeAdapter('openai');
    await chatWithChoices(openai.adapter, req(3), ctx());
    expect(openai.seen).toEqual([req(3)]);
    const other = fakeAdapter('anthropic');
    await chatWithChoices(other.adapter, req(1), ctx());
    expect(other.seen).toHaveLength(1);
  });

  it('other vendors: n calls without n, choices indexed 0..n-1, usage summed', async () => {
    const { adapter, seen } = fakeAdapter('anthropic');
    const res = await chatWithChoices(adapter, req(3), ctx());
    expect(seen).toHaveLength(3);
    for (const r of seen) expect('n' in r).toBe(false);
    expect(res.choices.map((c) => [c.index, c.message.content])).toEqual([
      [0, 'answer 1'],
      [1, 'answer 2'],
      [2, 'answer 3'],
    ]);
    expect(res.usage).toEqual({ prompt_tokens: 30, completion_tokens: 6, total_tokens: 36 });
  });

  it('one failed call aborts its siblings and fails the whole; a client abort reaches them all', async () => {
    const aborted: number[] = [];
    let call = 0;
    const adapter = {
      id: 'google',
      chat: (_req: ChatRequest, c: CallContext): Promise<ChatResponse> => {
        const i = call++;
        if (i === 1) return Promise.reject(new Error('upstream 500'));
        return new Promise((_resolve, reject) =>
          c.signal.addEventListener('abort', () => {
            aborted.push(i);
            reject(new Error('aborted'));
          }),
        );
      },
    } as unknown as LlmAdapter;
    await expect(chatWithChoices(adapter, req(3), ctx())).rejects.toThrow('upstream 500');
    expect(aborted.sort()).toEqual([0, 2]);

    aborted.length = 0;
    call = 10; // none fails by itself now
    const client = new CallAbort();
    const pending = chatWithChoices(adapter, req(2), { signal: client });
    client.abort(new Error('client went away'));
    await expect(pending).rejects.toThrow('aborted');
    expect(aborted).toEqual([10, 11]);
  });

  it('sumUsage keeps details and the estimated mark', () => {
    expect(
      sumUsage([
        {
          prompt_tokens: 1,
          completion_tokens: 2,
          total_tokens: 3,
          prompt_tokens_details: { cached_tokens: 1 },
        },
        { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3, estimated: true },
      ]),
    ).toEqual({
      prompt_tokens: 2,
      completion_tokens: 4,
      total_tokens: 6,
      prompt_tokens_details: { cached_tokens: 1 },
      estimated: true,
    });
  });
});
