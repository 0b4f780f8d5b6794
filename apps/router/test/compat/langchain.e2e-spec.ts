import { tool } from '@langchain/core/tools';
import { ChatOpenAI, OpenAIEmbeddings } from '@langchain/openai';
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

const Weather = z.object({
  city: z.string().describe('City name'),
  unit: z.enum(['celsius', 'fahrenheit']),
});

const Person = z.object({
  name: z.string(),
  age: z.number().int().min(0),
  hobbies: z.array(z.string()).min(1),
  address: z.object({ street: z.string(), zip: z.string() }),
});

const weatherTool = tool(async ({ city }) => `Sunny in ${city}`, {
  name: 'get_weather',
  description: 'Current weather for a city',
  schema: Weather,
});

/** `@langchain/openai` (ChatOpenAI, OpenAIEmbeddings) pointed at the router. */
describe(`client compatibility: @langchain/openai (${SERVICES_LABEL})`, () => {
  const env = useCompatEnv();

  const chatFor = (t: CompatTarget) =>
    new ChatOpenAI({
      model: t.chatModel,
      apiKey: env().routerFor(t).key,
      configuration: { baseURL: `${env().routerFor(t).url}/v1` },
      maxRetries: 0,
      timeout: 15_000,
    });

  describe.each(TARGETS)('$name ($chatModel)', (target) => {
    it('ChatOpenAI.invoke: text and usage metadata', async () => {
      const msg = await chatFor(target).invoke('Say hello');
      expect(typeof msg.content).toBe('string');
      const usage = msg.usage_metadata!;
      expect(usage.total_tokens).toBe(usage.input_tokens + usage.output_tokens);
      if (isFake(target)) {
        expect(msg.content).toBe(FAKE_TEXT);
        expect(usage).toMatchObject({
          input_tokens: FAKE_USAGE.prompt,
          output_tokens: FAKE_USAGE.completion,
        });
      } else {
        expect((msg.content as string).length).toBeGreaterThan(0);
      }
    });

    it('ChatOpenAI.stream: the chunks add up to the invoke answer, usage at the end', async () => {
      const model = chatFor(target);
      const full = await model.invoke('Stream please');
      let text = '';
      let chunks = 0;
      let usage: { input_tokens: number; output_tokens: number } | undefined;
      for await (const chunk of await model.stream('Stream please')) {
        chunks++;
        text += typeof chunk.content === 'string' ? chunk.content : '';
        if (chunk.usage_metadata) usage = chunk.usage_metadata;
      }
      expect(chunks).toBeGreaterThan(1);
      expect(text).toBe(full.content);
      expect(usage).toMatchObject({
        input_tokens: full.usage_metadata!.input_tokens,
        output_tokens: full.usage_metadata!.output_tokens,
      });
    });

    it('bindTools: the model calls the tool with arguments valid against its schema', async () => {
      const msg = await chatFor(target).bindTools([weatherTool]).invoke('What is the weather in Paris?');
      expect(msg.tool_calls).toHaveLength(1);
      const call = msg.tool_calls![0];
      expect(call.name).toBe('get_weather');
      const args = Weather.parse(call.args);
      if (isFake(target)) {
        const sent = env().upstream.requests[0];
        const schema =
          target.name === 'openai'
            ? sent.body.tools[0].function.parameters
            : target.name === 'anthropic'
              ? sent.body.tools[0].input_schema
              : sent.body.tools[0].functionDeclarations[0].parameters;
        expect(args).toEqual(sampleFromSchema(schema));
      }
      // The tool runs and its answer goes back: the model answers in words.
      const result = await weatherTool.invoke(call);
      const answer = await chatFor(target)
        .bindTools([weatherTool])
        .invoke([{ role: 'user', content: 'What is the weather in Paris?' }, msg, result]);
      expect(answer.tool_calls ?? []).toHaveLength(0);
      expect(typeof answer.content === 'string' && answer.content.length).toBeGreaterThan(0);
    });

    it('withStructuredOutput(zod) returns an object valid against the schema', async () => {
      const person = await chatFor(target).withStructuredOutput(Person).invoke('Describe a person');
      expect(Person.parse(person)).toEqual(person);
      expect(person.hobbies.length).toBeGreaterThanOrEqual(1);
    });

    it('OpenAIEmbeddings: embedQuery and embedDocuments carry the upstream values', async () => {
      if (!target.embeddingModel) return; // Anthropic has no embeddings (see the openai SDK suite)
      const embeddings = new OpenAIEmbeddings({
        model: target.embeddingModel,
        apiKey: env().routerFor(target).key,
        configuration: { baseURL: `${env().routerFor(target).url}/v1` },
        maxRetries: 0,
      });
      const docs = ['first document', 'second document', 'third'];
      const [query, vectors] = await Promise.all([
        embeddings.embedQuery('a question'),
        embeddings.embedDocuments(docs),
      ]);
      const [expectedQuery] = await referenceVectors(env(), target, ['a question']);
      expect(query).toEqual(expectedQuery);
      expect(vectors).toEqual(await referenceVectors(env(), target, docs));
      expect(query.some((v) => v !== 0)).toBe(true);
    });
  });
});
