import type { ChatRequest } from '../openai-types';
import { fromResponse, toFinishReason, toProviderError, toRequest } from './google.mapper';
import { toGeminiSchema } from './google.schema';

const base: ChatRequest = { model: 'gemini-2.0-flash', messages: [{ role: 'user', content: 'Hi' }] };
const meta = {
  id: 'chatcmpl-x',
  created: 1_700_000_000,
  model: 'gemini-2.0-flash',
  callId: (i: number) => `call_${i}`,
};

const conversation: ChatRequest = {
  model: 'gemini-2.0-flash',
  messages: [
    { role: 'system', content: 'You are terse.' },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'Weather here?' },
        { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQ' } },
        { type: 'image_url', image_url: { url: 'https://example.com/a.png' } },
      ],
    },
    {
      role: 'assistant',
      content: null,
      tool_calls: [
        { id: 'call_7', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
      ],
    },
    { role: 'tool', tool_call_id: 'call_7', content: '{"temp_c":21}' },
    { role: 'tool', tool_call_id: 'call_7', content: 'plain text result' },
    { role: 'assistant', content: 'It is 21 °C.' },
    { role: 'user', content: 'Thanks' },
  ],
};

describe('google.mapper toRequest', () => {
  it('system → systemInstruction; roles → user/model; tool calls/results → functionCall/functionResponse; images', () => {
    const out = toRequest(conversation);
    expect(out.systemInstruction).toEqual({ parts: [{ text: 'You are terse.' }] });
    expect(out.contents).toEqual([
      {
        role: 'user',
        parts: [
          { text: 'Weather here?' },
          { inlineData: { mimeType: 'image/jpeg', data: '/9j/4AAQ' } },
          { fileData: { mimeType: 'image/png', fileUri: 'https://example.com/a.png' } },
        ],
      },
      { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }] },
      {
        role: 'user',
        parts: [
          { functionResponse: { name: 'get_weather', response: { temp_c: 21 } } },
          { functionResponse: { name: 'get_weather', response: { content: 'plain text result' } } },
        ],
      },
      { role: 'model', parts: [{ text: 'It is 21 °C.' }] },
      { role: 'user', parts: [{ text: 'Thanks' }] },
    ]);
    expect(out.generationConfig).toBeUndefined();
  });

  it('stop, max tokens, temperature, top_p, seed → generationConfig', () => {
    const out = toRequest({
      ...base,
      stop: 'END',
      max_completion_tokens: 64,
      max_tokens: 10,
      temperature: 1.5,
      top_p: 0.8,
      seed: 3,
    });
    expect(out.generationConfig).toEqual({
      stopSequences: ['END'],
      maxOutputTokens: 64,
      temperature: 1.5,
      topP: 0.8,
      seed: 3,
    });
    expect(toRequest({ ...base, stop: ['a', 'b'], max_tokens: 10 }).generationConfig).toEqual({
      stopSequences: ['a', 'b'],
      maxOutputTokens: 10,
    });
  });

  it('response_format json_object → responseMimeType; json_schema → responseSchema (Gemini subset)', () => {
    expect(toRequest({ ...base, response_format: { type: 'json_object' } }).generationConfig).toEqual({
      responseMimeType: 'application/json',
    });
    const schema = {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      additionalProperties: false,
      properties: {
        name: { type: ['string', 'null'] },
        tags: { type: 'array', items: { type: 'string', const: 'x' } },
      },
      required: ['name'],
    };
    const out = toRequest({
      ...base,
      response_format: { type: 'json_schema', json_schema: { name: 'p', schema, strict: true } },
    });
    expect(out.generationConfig).toEqual({
      responseMimeType: 'application/json',
      responseSchema: {
        type: 'object',
        properties: {
          name: { type: 'string', nullable: true },
          tags: { type: 'array', items: { type: 'string', enum: ['x'] } },
        },
        required: ['name'],
      },
    });
  });

  it('tools → functionDeclarations; tool_choice → functionCallingConfig', () => {
    const tools = [
      {
        type: 'function' as const,
        function: {
          name: 'f',
          description: 'd',
          parameters: { type: 'object', additionalProperties: false },
        },
      },
    ];
    expect(toRequest({ ...base, tools }).tools).toEqual([
      { functionDeclarations: [{ name: 'f', description: 'd', parameters: { type: 'object' } }] },
    ]);
    const mode = (c: ChatRequest['tool_choice']) => toRequest({ ...base, tools, tool_choice: c }).toolConfig;
    expect(mode('auto')).toEqual({ functionCallingConfig: { mode: 'AUTO' } });
    expect(mode('required')).toEqual({ functionCallingConfig: { mode: 'ANY' } });
    expect(mode('none')).toEqual({ functionCallingConfig: { mode: 'NONE' } });
    expect(mode({ type: 'function', function: { name: 'f' } })).toEqual({
      functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['f'] },
    });
  });
});

describe('google.mapper: Messages API extensions', () => {
  it('top_k → topK; a failed tool result → response.error; tool-result images follow the function responses', () => {
    const shot = { type: 'image_url' as const, image_url: { url: 'data:image/png;base64,AAAA' } };
    const out = toRequest({
      model: 'gemini-2.5-flash',
      top_k: 20,
      thinking: { type: 'enabled', budget_tokens: 2048 },
      messages: [
        { role: 'user', content: 'look' },
        {
          role: 'assistant',
          content: null,
          thinking_blocks: [{ type: 'thinking', thinking: 'hmm', signature: 's' }],
          tool_calls: [
            { id: 'a', type: 'function', function: { name: 'shot', arguments: '{}' } },
            { id: 'b', type: 'function', function: { name: 'run', arguments: '{}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'a', content: [{ type: 'text', text: 'ok' }, shot] },
        { role: 'tool', tool_call_id: 'b', content: 'exit 1', is_error: true },
        { role: 'user', content: 'why?' },
      ],
    });
    expect(out.generationConfig).toEqual({ topK: 20 });
    expect(out.contents.slice(1)).toEqual([
      {
        role: 'model',
        parts: [{ functionCall: { name: 'shot', args: {} } }, { functionCall: { name: 'run', args: {} } }],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { name: 'shot', response: { content: 'ok' } } },
          { functionResponse: { name: 'run', response: { error: 'exit 1' } } },
          { inlineData: { mimeType: 'image/png', data: 'AAAA' } },
          { text: 'why?' },
        ],
      },
    ]);
  });
});

describe('google.mapper fromResponse', () => {
  it('text parts (thoughts skipped), finishReason and usageMetadata', () => {
    const res = fromResponse(
      'google',
      {
        candidates: [
          {
            content: {
              role: 'model',
              parts: [{ text: 'thinking…', thought: true }, { text: 'Hel' }, { text: 'lo' }],
            },
            finishReason: 'STOP',
          },
        ],
        usageMetadata: {
          promptTokenCount: 7,
          candidatesTokenCount: 2,
          thoughtsTokenCount: 3,
          totalTokenCount: 12,
        },
        modelVersion: 'gemini-2.0-flash-001',
      },
      meta,
    );
    expect(res).toEqual({
      id: 'chatcmpl-x',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'gemini-2.0-flash-001',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello' }, finish_reason: 'stop' }],
      usage: {
        prompt_tokens: 7,
        completion_tokens: 5,
        total_tokens: 12,
        completion_tokens_details: { reasoning_tokens: 3 },
      },
    });
  });

  it('functionCall parts → tool_calls with finish_reason tool_calls (Gemini says STOP)', () => {
    const res = fromResponse(
      'google',
      {
        candidates: [
          { content: { parts: [{ functionCall: { name: 'f', args: { a: 1 } } }] }, finishReason: 'STOP' },
        ],
      },
      meta,
    );
    expect(res.choices[0]).toEqual({
      index: 0,
      message: {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'call_0', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }],
      },
      finish_reason: 'tool_calls',
    });
  });

  it('a blocked prompt (no candidates) → content_filter', () => {
    const res = fromResponse('google', { promptFeedback: { blockReason: 'SAFETY' } }, meta);
    expect(res.choices[0].finish_reason).toBe('content_filter');
    expect(res.choices[0].message.content).toBe('');
  });

  it.each([
    ['STOP', 'stop'],
    ['MAX_TOKENS', 'length'],
    ['SAFETY', 'content_filter'],
    ['RECITATION', 'content_filter'],
    ['PROHIBITED_CONTENT', 'content_filter'],
    ['OTHER', 'stop'],
  ])('finishReason %s → %s', (reason, finish) => {
    expect(toFinishReason(reason, false)).toBe(finish);
  });
});

describe('google.mapper toProviderError', () => {
  it('429 without Retry-After reads google.rpc.RetryInfo retryDelay', () => {
    const body = JSON.stringify({
      error: {
        code: 429,
        message: 'Quota exceeded',
        status: 'RESOURCE_EXHAUSTED',
        details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '17s' }],
      },
    });
    expect(toProviderError('google', 429, {}, body)).toMatchObject({
      retryable: true,
      retryAfterMs: 17_000,
      code: 'upstream_rate_limited',
    });
  });
});

describe('toGeminiSchema', () => {
  it('keeps nested anyOf and drops $ref/$defs', () => {
    expect(toGeminiSchema({ anyOf: [{ type: 'string' }, { $ref: '#/x' }], $defs: {} })).toEqual({
      anyOf: [{ type: 'string' }, {}],
    });
  });
});
