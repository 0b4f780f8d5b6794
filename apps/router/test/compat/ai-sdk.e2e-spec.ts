import { createOpenAI } from '@ai-sdk/openai';
import { embed, embedMany, generateObject, generateText, stepCountIs, streamText, tool } from 'ai';
import { z } from 'zod';
import { sampleFromSchema } from '@app/providers/testing';
import { SERVICES_LABEL } from '@app/testing';
import {
  type CompatTarget,
  FAKE_TEXT,
  FAKE_USAGE,
  isFake,
  referenceVectors,
  TARGETS,
  useCompatEnv,
} from './compat-env';

const Recipe = z.object({
  name: z.string(),
  servings: z.number().int().min(1),
  ingredients: z.array(z.object({ item: z.string(), grams: z.number().min(0) })).min(1),
  vegetarian: z.boolean(),
  course: z.enum(['starter', 'main', 'dessert']),
});

const Lookup = z.object({ city: z.string(), country: z.string().optional() });

/** The Vercel AI SDK (`ai` 6 + `@ai-sdk/openai` 3) with `createOpenAI({ baseURL, apiKey }).chat(model)`. */
describe(`client compatibility: Vercel AI SDK (${SERVICES_LABEL})`, () => {
  const env = useCompatEnv();

  const providerFor = (t: CompatTarget) =>
    createOpenAI({ baseURL: `${env().routerFor(t).url}/v1`, apiKey: env().routerFor(t).key });

  describe.each(TARGETS)('$name ($chatModel)', (target) => {
    it('generateText: text, finish reason and usage', async () => {
      const res = await generateText({
        model: providerFor(target).chat(target.chatModel),
        prompt: 'Say hello',
        maxRetries: 0,
      });
      expect(res.finishReason).toBe('stop');
      expect(res.usage.totalTokens).toBe((res.usage.inputTokens ?? 0) + (res.usage.outputTokens ?? 0));
      if (isFake(target)) {
        expect(res.text).toBe(FAKE_TEXT);
        expect(res.usage).toMatchObject({
          inputTokens: FAKE_USAGE.prompt,
          outputTokens: FAKE_USAGE.completion,
        });
      } else {
        expect(res.text.length).toBeGreaterThan(0);
      }
    });

    it('streamText: the deltas add up to the generateText answer, usage as reported', async () => {
      const model = providerFor(target).chat(target.chatModel);
      const full = await generateText({ model, prompt: 'Stream it', maxRetries: 0 });
      const stream = streamText({ model, prompt: 'Stream it', maxRetries: 0 });
      const deltas: string[] = [];
      for await (const delta of stream.textStream) deltas.push(delta);
      expect(deltas.length).toBeGreaterThan(1);
      expect(deltas.join('')).toBe(full.text);
      const usage = await stream.usage;
      expect(usage).toMatchObject({
        inputTokens: full.usage.inputTokens,
        outputTokens: full.usage.outputTokens,
      });
      expect(await stream.finishReason).toBe('stop');
    });

    it('generateObject with a zod schema returns a valid object', async () => {
      const res = await generateObject({
        model: providerFor(target).chat(target.chatModel),
        schema: Recipe,
        prompt: 'A recipe for pancakes',
        maxRetries: 0,
      });
      expect(Recipe.parse(res.object)).toEqual(res.object);
      if (isFake(target)) {
        // The vendor got the schema in its own format and its JSON came back unchanged.
        const sent = env().upstream.requests[0].body;
        const schema =
          target.name === 'openai'
            ? sent.response_format.json_schema.schema
            : target.name === 'google'
              ? sent.generationConfig.responseSchema
              : null;
        if (schema) expect(res.object).toEqual(sampleFromSchema(schema));
      }
    });

    it("tools with toolChoice 'required': a call with valid input, executed", async () => {
      const executed: unknown[] = [];
      const res = await generateText({
        model: providerFor(target).chat(target.chatModel),
        prompt: 'Where is the Eiffel tower?',
        tools: {
          lookup: tool({
            description: 'Find a city',
            inputSchema: Lookup,
            execute: async (input) => {
              executed.push(input);
              return { found: true };
            },
          }),
        },
        toolChoice: 'required',
        stopWhen: stepCountIs(1),
        maxRetries: 0,
      });
      expect(res.finishReason).toBe('tool-calls');
      expect(res.toolCalls).toHaveLength(1);
      expect(res.toolCalls[0].toolName).toBe('lookup');
      const input = Lookup.parse(res.toolCalls[0].input);
      expect(executed).toEqual([input]);
      expect(res.toolResults[0].output).toEqual({ found: true });
      if (isFake(target)) {
        const sent = env().upstream.requests[0].body;
        expect(
          target.name === 'openai'
            ? sent.tool_choice
            : target.name === 'anthropic'
              ? sent.tool_choice.type
              : sent.toolConfig.functionCallingConfig.mode,
        ).toBe(target.name === 'openai' ? 'required' : target.name === 'anthropic' ? 'any' : 'ANY');
      }
    });

    it('embed and embedMany carry the upstream values', async () => {
      if (!target.embeddingModel) return; // Anthropic has no embeddings (see the openai SDK suite)
      const model = providerFor(target).embedding(target.embeddingModel);
      const one = await embed({ model, value: 'sunny day', maxRetries: 0 });
      const [expectedOne] = await referenceVectors(env(), target, ['sunny day']);
      // The AI SDK asks for floats: equal to float32 of them within float32 precision.
      expect(one.embedding).toHaveLength(expectedOne.length);
      one.embedding.forEach((v, i) => expect(Math.fround(v)).toBe(expectedOne[i]));
      const values = ['rain', 'snow', 'fog'];
      const many = await embedMany({
        model: providerFor(target).textEmbeddingModel(target.embeddingModel),
        values,
        maxRetries: 0,
      });
      const expected = await referenceVectors(env(), target, values);
      expect(many.embeddings.map((e) => e.map((v) => Math.fround(v)))).toEqual(expected);
      expect(many.usage.tokens).toBeGreaterThan(0);
    });
  });
});
