import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import { sampleFromSchema } from '@app/providers/testing';
import { SERVICES_LABEL } from '@app/testing';
import {
  type CompatTarget,
  FAKE_TEXT,
  FAKE_USAGE,
  isFake,
  openaiClient,
  referenceVectors,
  TARGETS,
  useCompatEnv,
  Weather,
} from './compat-env';

const Event = z.object({
  title: z.string(),
  when: z.string(),
  attendees: z.array(z.object({ name: z.string(), email: z.string() })).min(1),
  priority: z.enum(['low', 'high']),
  confirmed: z.boolean(),
});

const WEATHER_TOOL: OpenAI.ChatCompletionFunctionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather forecast for a city',
    parameters: z.toJSONSchema(Weather) as Record<string, unknown>,
  },
};

/** The official `openai` Node SDK (v6), unchanged but for baseURL and apiKey. */
describe(`client compatibility: openai SDK (${SERVICES_LABEL})`, () => {
  const env = useCompatEnv();

  const clientFor = (t: CompatTarget, apiKey?: string) => openaiClient(env(), t, apiKey);
  const ask = (text: string): OpenAI.ChatCompletionMessageParam[] => [{ role: 'user', content: text }];

  describe.each(TARGETS)('$name ($chatModel)', (target) => {
    it('chat: text and usage as the upstream reported them', async () => {
      const res = await clientFor(target).chat.completions.create({
        model: target.chatModel,
        messages: ask('Say hello'),
      });
      expect(res.object).toBe('chat.completion');
      expect(res.choices).toHaveLength(1);
      expect(res.choices[0].finish_reason).toBe('stop');
      const text = res.choices[0].message.content ?? '';
      const usage = res.usage!;
      expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);
      if (isFake(target)) {
        expect(text).toBe(FAKE_TEXT);
        expect(usage).toMatchObject({
          prompt_tokens: FAKE_USAGE.prompt,
          completion_tokens: FAKE_USAGE.completion,
        });
        expect(env().upstream.requests).toHaveLength(1);
        expect(env().upstream.requests[0].vendor).toBe(target.name);
      } else {
        expect(text.length).toBeGreaterThan(0);
        expect(usage.completion_tokens).toBeGreaterThan(0);
      }
    });

    it('stream without include_usage: every chunk has a choice, text equals the JSON answer', async () => {
      const client = clientFor(target);
      const full = await client.chat.completions.create({
        model: target.chatModel,
        messages: ask('Stream it'),
      });
      const stream = await client.chat.completions.create({
        model: target.chatModel,
        messages: ask('Stream it'),
        stream: true,
      });
      let text = '';
      let chunks = 0;
      for await (const chunk of stream) {
        chunks++;
        // The loop most clients write: it crashed on the `choices: []` usage chunk.
        text += chunk.choices[0].delta.content ?? '';
        expect(chunk.usage ?? undefined).toBeUndefined();
      }
      expect(chunks).toBeGreaterThan(1);
      expect(text).toBe(full.choices[0].message.content);
    });

    it('stream with include_usage: the final chunk carries the usage, with `choices: []`', async () => {
      const client = clientFor(target);
      const full = await client.chat.completions.create({
        model: target.chatModel,
        messages: ask('Count it'),
      });
      const stream = await client.chat.completions.create({
        model: target.chatModel,
        messages: ask('Count it'),
        stream: true,
        stream_options: { include_usage: true },
      });
      const chunks: OpenAI.ChatCompletionChunk[] = [];
      for await (const chunk of stream) chunks.push(chunk);
      const last = chunks[chunks.length - 1];
      expect(last.choices).toEqual([]);
      expect(last.usage).toMatchObject({
        prompt_tokens: full.usage!.prompt_tokens,
        completion_tokens: full.usage!.completion_tokens,
      });
      expect(chunks.slice(0, -1).every((c) => c.choices.length === 1)).toBe(true);
    });

    it('tools: tool_choice required gives a call whose arguments validate; the tool result gets an answer', async () => {
      const client = clientFor(target);
      const res = await client.chat.completions.create({
        model: target.chatModel,
        messages: ask('Weather in Paris for 3 days?'),
        tools: [WEATHER_TOOL],
        tool_choice: 'required',
      });
      expect(res.choices[0].finish_reason).toBe('tool_calls');
      const call = res.choices[0].message.tool_calls![0] as OpenAI.ChatCompletionMessageFunctionToolCall;
      expect(call.function.name).toBe('get_weather');
      const args = Weather.parse(JSON.parse(call.function.arguments));
      if (isFake(target)) {
        // Exactly what the upstream produced from the schema it received.
        expect(args).toEqual(sampleFromSchema(WEATHER_TOOL.function.parameters as Record<string, unknown>));
      }
      const next = await client.chat.completions.create({
        model: target.chatModel,
        messages: [
          ...ask('Weather in Paris for 3 days?'),
          res.choices[0].message,
          { role: 'tool', tool_call_id: call.id, content: JSON.stringify({ forecast: 'sunny' }) },
        ],
        tools: [WEATHER_TOOL],
      });
      expect(next.choices[0].finish_reason).toBe('stop');
      expect(next.choices[0].message.content?.length).toBeGreaterThan(0);
      if (isFake(target)) {
        const sent = env().upstream.requests[1].body;
        const asText = JSON.stringify(sent);
        expect(asText).toContain('sunny'); // the tool result reached the vendor in its own format
      }
    });

    it('chat.completions.parse with zodResponseFormat returns the parsed object', async () => {
      const res = await clientFor(target).chat.completions.parse({
        model: target.chatModel,
        messages: ask('Plan a meeting'),
        response_format: zodResponseFormat(Event, 'event'),
      });
      const parsed = res.choices[0].message.parsed;
      expect(parsed).not.toBeNull();
      expect(Event.parse(parsed)).toEqual(parsed);
      if (isFake(target)) {
        expect(parsed!.attendees.length).toBeGreaterThanOrEqual(1);
        expect(['low', 'high']).toContain(parsed!.priority);
      }
    });

    it('embeddings with the SDK default encoding (base64) carry the upstream values', async () => {
      if (!target.embeddingModel) {
        // Anthropic has no embeddings: a clear error, not zeros.
        await expect(
          clientFor(target).embeddings.create({ model: 'anthropic/claude-sonnet-4-5', input: 'x' }),
        ).rejects.toBeInstanceOf(OpenAI.APIError);
        return;
      }
      const input = ['the quick brown fox', 'jumps over the lazy dog'];
      const res = await clientFor(target).embeddings.create({ model: target.embeddingModel, input });
      const expected = await referenceVectors(env(), target, input);
      expect(res.data.map((d) => d.embedding)).toEqual(expected);
      expect(res.data[0].embedding.some((v) => v !== 0)).toBe(true);
      expect(res.usage.prompt_tokens).toBeGreaterThan(0);
      if (isFake(target)) {
        const sent = env().upstream.requests.find((r) => r.operation === 'embed')!;
        expect(sent.body.encoding_format ?? 'float').toBe('float');
      }
    });

    it('models.list and models.retrieve', async () => {
      const client = clientFor(target);
      const ids = (await client.models.list()).data.map((m) => m.id);
      expect(ids).toContain(target.chatModel);
      const model = await client.models.retrieve(target.chatModel);
      expect(model).toMatchObject({ id: target.chatModel, object: 'model', owned_by: target.name });
      await expect(client.models.retrieve('no-such-model')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    });

    it('error classes: AuthenticationError, NotFoundError, BadRequestError, RateLimitError', async () => {
      const bad = clientFor(target, 'atp_not-a-real-key');
      await expect(
        bad.chat.completions.create({ model: target.chatModel, messages: ask('hi') }),
      ).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
      const client = clientFor(target);
      await expect(
        client.chat.completions.create({ model: 'no-such-model', messages: ask('hi') }),
      ).rejects.toBeInstanceOf(OpenAI.NotFoundError);
      const badRequest = await client.chat.completions
        .create({ model: target.chatModel, messages: ask('hi'), n: 9 })
        .catch((e: unknown) => e);
      expect(badRequest).toBeInstanceOf(OpenAI.BadRequestError);
      expect((badRequest as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('n');
      const limited = clientFor(target, await env().limitedKey(target));
      await limited.chat.completions.create({ model: target.chatModel, messages: ask('one') });
      await expect(
        limited.chat.completions.create({ model: target.chatModel, messages: ask('two') }),
      ).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    });

    it('n = 2 gives two choices indexed 0 and 1', async () => {
      const res = await clientFor(target).chat.completions.create({
        model: target.chatModel,
        messages: ask('Two answers'),
        n: 2,
      });
      if (target.name === 'openai') {
        // OpenAI answers n itself; the fake (like the router) passes its single choice through.
        expect(env().upstream.requests[0].body.n).toBe(2);
        return;
      }
      expect(res.choices.map((c) => c.index)).toEqual([0, 1]);
      expect(res.choices[1].message.content).toBe(res.choices[0].message.content);
      if (isFake(target)) {
        expect(res.usage).toMatchObject({
          prompt_tokens: 2 * FAKE_USAGE.prompt,
          completion_tokens: 2 * FAKE_USAGE.completion,
        });
      }
    });
  });
});
