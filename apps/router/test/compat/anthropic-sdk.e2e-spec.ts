import Anthropic from '@anthropic-ai/sdk';
import { sampleFromSchema } from '@app/providers/testing';
import { SERVICES_LABEL } from '@app/testing';
import { type CompatTarget, FAKE_TEXT, FAKE_USAGE, isFake, TARGETS, useCompatEnv } from './compat-env';

const WEATHER_SCHEMA = {
  type: 'object',
  properties: {
    city: { type: 'string' },
    unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
    window: {
      type: 'object',
      properties: { days: { type: 'integer', minimum: 1, maximum: 7 }, hourly: { type: 'boolean' } },
      required: ['days', 'hourly'],
    },
  },
  required: ['city', 'unit', 'window'],
};
const WEATHER_TOOL: Anthropic.Tool = {
  name: 'get_weather',
  description: 'Weather forecast for a city',
  input_schema: WEATHER_SCHEMA as Anthropic.Tool.InputSchema,
};

/** The official `@anthropic-ai/sdk`, unchanged but for baseURL and apiKey (sent as `x-api-key`). */
describe(`client compatibility: @anthropic-ai/sdk against /v1/messages (${SERVICES_LABEL})`, () => {
  const env = useCompatEnv();

  const clientFor = (t: CompatTarget, apiKey = env().routerFor(t).key) =>
    new Anthropic({ apiKey, baseURL: env().routerFor(t).url, maxRetries: 0, timeout: 15_000 });
  const sent = (i = 0) => env().upstream.requests[i];

  describe.each(TARGETS)('$name ($chatModel)', (target) => {
    it('messages.create: text, stop reason and usage as the upstream reported them', async () => {
      const { data: res, response } = await clientFor(target)
        .messages.create({
          model: target.chatModel,
          max_tokens: 64,
          system: 'Be brief.',
          messages: [{ role: 'user', content: 'Say hello' }],
        })
        .withResponse();
      expect(res).toMatchObject({ type: 'message', role: 'assistant', model: target.chatModel });
      expect(res.id).toMatch(/^msg_/);
      expect(res.stop_reason).toBe('end_turn');
      expect(res.content).toHaveLength(1);
      const text = (res.content[0] as Anthropic.TextBlock).text;
      expect(response.headers.get('x-atp-model')).toBe(target.chatModel);
      if (!isFake(target)) {
        expect(text.length).toBeGreaterThan(0);
        return;
      }
      expect(text).toBe(FAKE_TEXT);
      expect(res.usage).toMatchObject({
        input_tokens: FAKE_USAGE.prompt,
        output_tokens: FAKE_USAGE.completion,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
      });
      expect(env().upstream.requests).toHaveLength(1);
      expect(sent().vendor).toBe(target.name);
      const body = sent().body;
      if (target.name === 'anthropic') {
        expect(body).toMatchObject({
          max_tokens: 64,
          system: 'Be brief.',
          messages: [{ role: 'user', content: [{ type: 'text', text: 'Say hello' }] }],
        });
        expect(sent().headers['x-api-key']).toBe('sk-ant-fake'); // the vendor key, never the client's
      } else if (target.name === 'openai') {
        expect(body).toMatchObject({
          max_completion_tokens: 64,
          messages: [
            { role: 'system', content: 'Be brief.' },
            { role: 'user', content: 'Say hello' },
          ],
        });
      } else {
        expect(body).toMatchObject({
          systemInstruction: { parts: [{ text: 'Be brief.' }] },
          contents: [{ role: 'user', parts: [{ text: 'Say hello' }] }],
          generationConfig: { maxOutputTokens: 64 },
        });
      }
    });

    it('messages.stream(...).finalMessage() equals the JSON answer; text arrives as text deltas', async () => {
      const client = clientFor(target);
      const params = {
        model: target.chatModel,
        max_tokens: 64,
        messages: [{ role: 'user' as const, content: 'Stream it' }],
      };
      const full = await client.messages.create(params);
      const stream = client.messages.stream(params);
      const events: string[] = [];
      let deltas = '';
      stream.on('streamEvent', (e) => {
        events.push(e.type);
        if (e.type === 'content_block_delta' && e.delta.type === 'text_delta') deltas += e.delta.text;
      });
      const final = await stream.finalMessage();
      expect(final.content).toEqual(full.content);
      expect(final.stop_reason).toBe('end_turn');
      expect(final.usage.output_tokens).toBe(full.usage.output_tokens);
      expect(final.usage.input_tokens).toBe(full.usage.input_tokens);
      expect(deltas).toBe((full.content[0] as Anthropic.TextBlock).text);
      expect(events[0]).toBe('message_start');
      expect(events.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
      if (isFake(target)) expect(sent(1).operation).toBe('stream');
    });

    it('tool use round trip: a tool_use with a valid input, then the tool_result reaches the vendor', async () => {
      const client = clientFor(target);
      const ask: Anthropic.MessageParam = { role: 'user', content: 'Weather in Paris for 3 days?' };
      const first = await client.messages.create({
        model: target.chatModel,
        max_tokens: 256,
        messages: [ask],
        tools: [WEATHER_TOOL],
        tool_choice: { type: 'any' },
      });
      expect(first.stop_reason).toBe('tool_use');
      const use = first.content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use')!;
      expect(use.name).toBe('get_weather');
      expect(use.id.length).toBeGreaterThan(0);
      expect(Object.keys(use.input as object).sort()).toEqual(['city', 'unit', 'window']);
      if (isFake(target)) expect(use.input).toEqual(sampleFromSchema(WEATHER_SCHEMA));
      const next = await client.messages.create({
        model: target.chatModel,
        max_tokens: 256,
        tools: [WEATHER_TOOL],
        messages: [
          ask,
          { role: 'assistant', content: first.content },
          {
            role: 'user',
            content: [{ type: 'tool_result', tool_use_id: use.id, content: '{"forecast":"sunny"}' }],
          },
        ],
      });
      expect(next.stop_reason).toBe('end_turn');
      expect((next.content[0] as Anthropic.TextBlock).text.length).toBeGreaterThan(0);
      if (!isFake(target)) return;
      const body = sent(1).body;
      if (target.name === 'anthropic') {
        expect(body.tools[0]).toEqual({
          name: 'get_weather',
          description: WEATHER_TOOL.description,
          input_schema: WEATHER_SCHEMA,
        });
        expect(body.tool_choice).toBeUndefined();
        expect(body.messages[1].content).toEqual([
          { type: 'tool_use', id: use.id, name: 'get_weather', input: use.input },
        ]);
        expect(body.messages[2].content).toEqual([
          { type: 'tool_result', tool_use_id: use.id, content: '{"forecast":"sunny"}' },
        ]);
        expect(sent(0).body.tool_choice).toEqual({ type: 'any' });
      } else if (target.name === 'openai') {
        expect(sent(0).body.tool_choice).toBe('required');
        expect(body.tools[0].function).toEqual({
          name: 'get_weather',
          description: WEATHER_TOOL.description,
          parameters: WEATHER_SCHEMA,
        });
        expect(body.messages[1].tool_calls[0]).toEqual({
          id: use.id,
          type: 'function',
          function: { name: 'get_weather', arguments: JSON.stringify(use.input) },
        });
        expect(body.messages[2]).toEqual({
          role: 'tool',
          tool_call_id: use.id,
          content: '{"forecast":"sunny"}',
        });
      } else {
        expect(sent(0).body.toolConfig).toEqual({ functionCallingConfig: { mode: 'ANY' } });
        expect(body.contents[1].parts[0]).toEqual({ functionCall: { name: 'get_weather', args: use.input } });
        expect(body.contents[2].parts[0]).toEqual({
          functionResponse: { name: 'get_weather', response: { forecast: 'sunny' } },
        });
      }
    });

    it('countTokens: the router estimate, nothing sent upstream', async () => {
      const client = clientFor(target);
      const short = await client.messages.countTokens({
        model: target.chatModel,
        messages: [{ role: 'user', content: 'hi' }],
      });
      const long = await client.messages.countTokens({
        model: target.chatModel,
        system: 'You are a careful assistant.',
        messages: [{ role: 'user', content: 'x'.repeat(400) }],
        tools: [WEATHER_TOOL],
      });
      // ≈ 4 characters a token: 4 framing + 1 for "hi"
      expect(short).toEqual({ input_tokens: 5 });
      expect(long.input_tokens).toBeGreaterThan(100 + 8);
      expect(env().upstream.requests).toHaveLength(0);
    });

    it('authentication: a wrong key is an AuthenticationError in Anthropic shape', async () => {
      const err = await clientFor(target, 'atp_not-a-real-key')
        .messages.create({
          model: target.chatModel,
          max_tokens: 8,
          messages: [{ role: 'user', content: 'x' }],
        })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
      const apiError = err as InstanceType<typeof Anthropic.APIError>;
      expect(apiError.status).toBe(401);
      expect(apiError.error).toEqual({
        type: 'error',
        error: { type: 'authentication_error', message: expect.any(String) },
      });
      expect(env().upstream.requests).toHaveLength(0);
    });
  });
});
