import OpenAI from 'openai';
import { zodTextFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import { type JsonValue, type RecordedRequest, sampleFromSchema } from '@app/providers/testing';
import { SERVICES_LABEL } from '@app/testing';
import { tenantWithKey } from '../governance-helpers';
import {
  type CompatTarget,
  FAKE_TEXT,
  FAKE_USAGE,
  isFake,
  openaiClient,
  TARGETS,
  useCompatEnv,
  Weather,
} from './compat-env';

const Event = z.object({
  title: z.string(),
  attendees: z.array(z.object({ name: z.string(), email: z.string() })).min(1),
  priority: z.enum(['low', 'high']),
});

const WEATHER_TOOL: OpenAI.Responses.FunctionTool = {
  type: 'function',
  name: 'get_weather',
  description: 'Weather forecast for a city',
  parameters: z.toJSONSchema(Weather) as Record<string, unknown>,
  strict: false,
};

/** The text of every message the vendor received, in order, whatever its wire format. */
function sentTexts(req: RecordedRequest): string[] {
  const b = req.body;
  const texts = (content: JsonValue): string[] =>
    typeof content === 'string'
      ? [content]
      : Array.isArray(content)
        ? content.flatMap((p: JsonValue) =>
            typeof p?.text === 'string'
              ? [p.text]
              : p?.type === 'tool_result'
                ? texts(p.content)
                : p?.functionResponse
                  ? [JSON.stringify(p.functionResponse.response)]
                  : [],
          )
        : [];
  if (req.vendor === 'google') {
    return (b.contents as JsonValue[]).flatMap((c) => texts(c.parts));
  }
  return (b.messages as JsonValue[]).filter((m) => m.role !== 'system').flatMap((m) => texts(m.content));
}

/** The tool result the vendor received, in its own format: the id it answers and its text. */
function sentToolResult(req: RecordedRequest): { id: string | null; text: string } {
  const b = req.body;
  if (req.vendor === 'openai') {
    const m = (b.messages as JsonValue[]).find((x) => x.role === 'tool');
    return { id: m.tool_call_id, text: m.content };
  }
  if (req.vendor === 'anthropic') {
    const block = (b.messages as JsonValue[])
      .flatMap((m) => (Array.isArray(m.content) ? m.content : []))
      .find((x: JsonValue) => x.type === 'tool_result');
    return {
      id: block.tool_use_id,
      text: typeof block.content === 'string' ? block.content : JSON.stringify(block.content),
    };
  }
  const part = (b.contents as JsonValue[]).flatMap((c) => c.parts).find((p: JsonValue) => p.functionResponse);
  return { id: null, text: JSON.stringify(part.functionResponse) };
}

/** The official `openai` Node SDK's Responses API against the router, for every vendor behind it. */
describe(`client compatibility: openai SDK responses (${SERVICES_LABEL})`, () => {
  const env = useCompatEnv();

  const clientFor = (t: CompatTarget, apiKey?: string) => openaiClient(env(), t, apiKey);

  describe.each(TARGETS)('$name ($chatModel)', (target) => {
    it('create: output_text and usage as the upstream reported them; the vendor got the prompt and instructions', async () => {
      const res = await clientFor(target).responses.create({
        model: target.chatModel,
        instructions: 'Answer briefly.',
        input: 'Say hello',
        max_output_tokens: 300,
      });
      expect(res.object).toBe('response');
      expect(res.id).toMatch(/^resp_[0-9a-f]{48}$/);
      expect(res.status).toBe('completed');
      expect(res.model).toBe(target.chatModel);
      expect(res.output).toHaveLength(1);
      expect(res.output[0]).toMatchObject({ type: 'message', role: 'assistant', status: 'completed' });
      const usage = res.usage!;
      expect(usage.total_tokens).toBe(usage.input_tokens + usage.output_tokens);
      if (!isFake(target)) {
        expect(res.output_text.length).toBeGreaterThan(0);
        return;
      }
      expect(res.output_text).toBe(FAKE_TEXT);
      expect(usage).toMatchObject({ input_tokens: FAKE_USAGE.prompt, output_tokens: FAKE_USAGE.completion });
      expect(env().upstream.requests).toHaveLength(1);
      const sent = env().upstream.requests[0];
      expect(sent.vendor).toBe(target.name);
      expect(sentTexts(sent)).toEqual(['Say hello']);
      expect(JSON.stringify(sent.body)).toContain('Answer briefly.');
      const maxTokens: Record<string, unknown> = {
        openai: sent.body.max_completion_tokens,
        anthropic: sent.body.max_tokens,
        google: sent.body.generationConfig?.maxOutputTokens,
      };
      expect(maxTokens[target.name]).toBe(300);
    });

    it('stream: OpenAI’s event sequence, numbered; the deltas make the final text', async () => {
      const stream = await clientFor(target).responses.create({
        model: target.chatModel,
        input: 'Stream it',
        stream: true,
      });
      const events: OpenAI.Responses.ResponseStreamEvent[] = [];
      for await (const event of stream) events.push(event);
      const types = events.map((e) => e.type);
      expect(types.slice(0, 4)).toEqual([
        'response.created',
        'response.in_progress',
        'response.output_item.added',
        'response.content_part.added',
      ]);
      expect(types.slice(-4)).toEqual([
        'response.output_text.done',
        'response.content_part.done',
        'response.output_item.done',
        'response.completed',
      ]);
      expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
      const deltas = events.filter((e) => e.type === 'response.output_text.delta');
      expect(deltas.length).toBeGreaterThan(1);
      const completed = events[events.length - 1] as OpenAI.Responses.ResponseCompletedEvent;
      const text = deltas.map((d) => (d as OpenAI.Responses.ResponseTextDeltaEvent).delta).join('');
      expect(completed.response.output_text ?? text).toBe(text);
      expect(
        (completed.response.output[0] as OpenAI.Responses.ResponseOutputMessage).content[0],
      ).toMatchObject({ text });
      if (isFake(target)) {
        expect(text).toBe(FAKE_TEXT);
        expect(completed.response.usage).toMatchObject({
          input_tokens: FAKE_USAGE.prompt,
          output_tokens: FAKE_USAGE.completion,
        });
        expect(env().upstream.requests[0].operation).toBe('stream');
      }
      // The SDK's own stream helper accumulates the same response.
      const final = await clientFor(target)
        .responses.stream({ model: target.chatModel, input: 'Stream it' })
        .finalResponse();
      expect(final.output_text).toBe(text);
    });

    it('function tool round trip with function_call_output; the vendor got the result for its own call id', async () => {
      const client = clientFor(target);
      const first = await client.responses.create({
        model: target.chatModel,
        input: 'Weather in Paris for 3 days?',
        tools: [WEATHER_TOOL],
        tool_choice: 'required',
        store: false,
      });
      const call = first.output.find(
        (o) => o.type === 'function_call',
      ) as OpenAI.Responses.ResponseFunctionToolCall;
      expect(call).toMatchObject({ type: 'function_call', name: 'get_weather', status: 'completed' });
      expect(call.id).toMatch(/^fc_/);
      const args = Weather.parse(JSON.parse(call.arguments));
      if (isFake(target)) {
        expect(args).toEqual(sampleFromSchema(WEATHER_TOOL.parameters as Record<string, unknown>));
      }
      const next = await client.responses.create({
        model: target.chatModel,
        input: [
          { role: 'user', content: 'Weather in Paris for 3 days?' },
          ...(first.output as OpenAI.Responses.ResponseInputItem[]),
          {
            type: 'function_call_output',
            call_id: call.call_id,
            output: JSON.stringify({ forecast: 'sunny' }),
          },
        ],
        tools: [WEATHER_TOOL],
        store: false,
      });
      expect(next.status).toBe('completed');
      expect(next.output_text.length).toBeGreaterThan(0);
      if (isFake(target)) {
        const sent = sentToolResult(env().upstream.requests[1]);
        expect(sent.text).toContain('sunny');
        // OpenAI and Anthropic match results to calls by id; Gemini by name and order.
        if (target.name !== 'google') expect(sent.id).toBe(call.call_id);
      }
    });

    it('text.format json_schema (responses.parse with zodTextFormat): parsed output; the vendor got the schema', async () => {
      const res = await clientFor(target).responses.parse({
        model: target.chatModel,
        input: 'Plan a meeting',
        text: { format: zodTextFormat(Event, 'event') },
      });
      expect(res.output_parsed).not.toBeNull();
      expect(Event.parse(res.output_parsed)).toEqual(res.output_parsed);
      if (isFake(target)) {
        const body = JSON.stringify(env().upstream.requests[0].body);
        expect(body).toContain('attendees');
        if (target.name === 'openai') {
          expect(env().upstream.requests[0].body.response_format).toMatchObject({
            type: 'json_schema',
            json_schema: { name: 'event', strict: true },
          });
        }
      }
    });

    it('previous_response_id continues the stored conversation: the vendor gets every earlier turn in order', async () => {
      const client = clientFor(target);
      const first = await client.responses.create({ model: target.chatModel, input: 'My name is Ada.' });
      const second = await client.responses.create({
        model: target.chatModel,
        input: 'What is my name?',
        previous_response_id: first.id,
      });
      expect(second.previous_response_id).toBe(first.id);
      const third = await client.responses.create({
        model: target.chatModel,
        input: 'And again?',
        previous_response_id: second.id,
        stream: false,
      });
      expect(third.status).toBe('completed');
      if (isFake(target)) {
        expect(sentTexts(env().upstream.requests[2])).toEqual([
          'My name is Ada.',
          first.output_text,
          'What is my name?',
          second.output_text,
          'And again?',
        ]);
      }
      const streamed = await client.responses
        .stream({ model: target.chatModel, input: 'Once more', previous_response_id: third.id })
        .finalResponse();
      // A streamed response is stored too: it can be continued right away.
      await expect(client.responses.retrieve(streamed.id)).resolves.toMatchObject({
        id: streamed.id,
        status: 'completed',
      });
    });

    it('retrieve and delete; then, and for another tenant, a 404 (NotFoundError)', async () => {
      const client = clientFor(target);
      const created = await client.responses.create({
        model: target.chatModel,
        input: 'Keep this',
        metadata: { case: 'kept' },
      });
      const got = await client.responses.retrieve(created.id);
      expect(got).toEqual(created);
      const stranger = clientFor(target, (await tenantWithKey(env().routerFor(target).booted)).key);
      await expect(stranger.responses.retrieve(created.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
      await expect(stranger.responses.delete(created.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
      const continued = await stranger.responses
        .create({ model: target.chatModel, input: 'x', previous_response_id: created.id })
        .catch((e: unknown) => e);
      expect(continued).toBeInstanceOf(OpenAI.NotFoundError);
      expect((continued as InstanceType<typeof OpenAI.NotFoundError>).param).toBe('previous_response_id');
      await client.responses.delete(created.id);
      await expect(client.responses.retrieve(created.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
      await expect(client.responses.delete(created.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
      const notStored = await client.responses.create({
        model: target.chatModel,
        input: 'Forget this',
        store: false,
      });
      await expect(client.responses.retrieve(notStored.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    });

    it('a hosted tool is a 400 (BadRequestError) naming it, and nothing reaches the vendor', async () => {
      const err = await clientFor(target)
        .responses.create({ model: target.chatModel, input: 'news?', tools: [{ type: 'web_search' }] })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.BadRequestError);
      expect((err as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('tools[0].type');
      expect(env().upstream.requests).toHaveLength(0);
    });
  });
});
