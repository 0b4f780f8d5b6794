import { z } from 'zod';
import { anthropicFakeWire } from '../anthropic/testing';
import { googleFakeWire } from '../google/testing';
import { openaiFakeWire } from '../openai/testing';
import { sampleFromSchema, schemaAnswer } from './fake-schema';

const WIRES = { openai: openaiFakeWire, anthropic: anthropicFakeWire, google: googleFakeWire };

/** What a vendor's fake reads from a request body in its wire format. */
const requestIntent = (vendor: keyof typeof WIRES, body: unknown) => WIRES[vendor].intent(body);

describe('sampleFromSchema: values that validate against the schema', () => {
  it.each([
    [
      'nested objects, arrays, enums, formats, bounds',
      z.object({
        id: z.uuid(),
        email: z.email(),
        at: z.iso.datetime(),
        site: z.url(),
        count: z.number().int().min(3).max(9),
        ratio: z.number().gt(0.5),
        kind: z.enum(['a', 'b']),
        fixed: z.literal('x'),
        tags: z.array(z.string().min(12)).min(2),
        owner: z.object({ name: z.string(), admin: z.boolean(), note: z.string().nullable() }),
      }),
    ],
    ['unions and optionals', z.object({ v: z.union([z.number(), z.string()]), o: z.string().optional() })],
    ['a tuple', z.object({ pair: z.tuple([z.string(), z.number()]) })],
  ])('%s', (_name, schema) => {
    const json = z.toJSONSchema(schema) as Record<string, unknown>;
    expect(() => schema.parse(sampleFromSchema(json))).not.toThrow();
  });

  it('follows $ref into $defs and stops recursion', () => {
    const Node: z.ZodType<{ name: string; children: unknown[] }> = z.object({
      name: z.string(),
      get children() {
        return z.array(Node);
      },
    });
    const json = z.toJSONSchema(z.object({ root: Node }), { reused: 'ref' }) as Record<string, unknown>;
    const value = sampleFromSchema(json);
    expect(() => z.object({ root: Node }).parse(value)).not.toThrow();
  });

  it('reads Gemini OpenAPI types (STRING, INTEGER)', () => {
    expect(
      sampleFromSchema({ type: 'OBJECT', properties: { a: { type: 'INTEGER' }, b: { type: 'STRING' } } }),
    ).toEqual({ a: 1, b: 'sample b' });
  });
});

describe('requestIntent / schemaAnswer per wire format', () => {
  const params = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };

  it('OpenAI: tools, forced choice, tool results, response_format', () => {
    const tools = [
      { type: 'function', function: { name: 'a', parameters: params } },
      { type: 'function', function: { name: 'b', parameters: params } },
    ];
    const user = [{ role: 'user', content: 'x' }];
    expect(schemaAnswer(requestIntent('openai', { messages: user, tools }))).toEqual({
      toolCall: { name: 'a', arguments: { city: 'sample city' } },
    });
    expect(
      schemaAnswer(
        requestIntent('openai', {
          messages: user,
          tools,
          tool_choice: { type: 'function', function: { name: 'b' } },
        }),
      ),
    ).toMatchObject({ toolCall: { name: 'b' } });
    expect(schemaAnswer(requestIntent('openai', { messages: user, tools, tool_choice: 'none' }))).toBeNull();
    expect(
      schemaAnswer(requestIntent('openai', { messages: [...user, { role: 'tool', content: 'r' }], tools })),
    ).toBeNull();
    expect(
      schemaAnswer(
        requestIntent('openai', {
          messages: user,
          response_format: { type: 'json_schema', json_schema: { name: 'n', schema: params } },
        }),
      ),
    ).toEqual({ text: '{"city":"sample city"}' });
  });

  it('Anthropic: input_schema, tool_choice any/tool, tool_result, the schema in the system prompt', () => {
    const body = {
      system: `Be brief.\n\nRespond only with a single valid JSON value, with no text before or after it, that conforms to this JSON Schema (named "x"): ${JSON.stringify(params)}`,
      messages: [{ role: 'user', content: 'x' }],
    };
    expect(schemaAnswer(requestIntent('anthropic', body))).toEqual({ text: '{"city":"sample city"}' });
    const intent = requestIntent('anthropic', {
      ...body,
      tools: [{ name: 't', input_schema: params }],
      tool_choice: { type: 'tool', name: 't' },
      messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: '1', content: 'r' }] }],
    });
    expect(intent).toMatchObject({ choice: { name: 't' }, afterToolResult: true });
  });

  it('Gemini: functionDeclarations, functionCallingConfig ANY, responseSchema', () => {
    const intent = requestIntent('google', {
      contents: [{ role: 'user', parts: [{ text: 'x' }] }],
      tools: [{ functionDeclarations: [{ name: 'f', parameters: params }] }],
      toolConfig: { functionCallingConfig: { mode: 'ANY' } },
      generationConfig: { responseMimeType: 'application/json', responseSchema: params },
    });
    expect(intent).toMatchObject({ choice: 'required', afterToolResult: false, jsonSchema: params });
    expect(intent.tools).toEqual([{ name: 'f', schema: params }]);
  });
});
