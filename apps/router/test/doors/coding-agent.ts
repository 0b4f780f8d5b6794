import type Anthropic from '@anthropic-ai/sdk';

/**
 * A request shaped like a coding agent's turn through the Messages API (as Claude Code sends
 * them): system blocks with a cache breakpoint, a dozen tools with nested input schemas (the
 * last one a breakpoint too), a multi-turn history with thinking, tool use and tool results
 * (one failed, one with text blocks), streaming, and extended thinking.
 */

const eph = { type: 'ephemeral' as const };

const pathProp = { type: 'string', description: 'Path relative to the repository root' };
const TOOL_SPECS: [string, Record<string, unknown>][] = [
  [
    'read_file',
    {
      path: pathProp,
      range: { type: 'object', properties: { start: { type: 'integer' }, end: { type: 'integer' } } },
    },
  ],
  ['write_file', { path: pathProp, content: { type: 'string' } }],
  [
    'edit_file',
    {
      path: pathProp,
      edits: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            old_text: { type: 'string' },
            new_text: { type: 'string' },
            replace_all: { type: 'boolean' },
          },
          required: ['old_text', 'new_text'],
        },
      },
    },
  ],
  ['bash', { command: { type: 'string' }, timeout_ms: { type: 'integer', minimum: 1 } }],
  ['glob', { pattern: { type: 'string' }, exclude: { type: 'array', items: { type: 'string' } } }],
  [
    'grep',
    {
      pattern: { type: 'string' },
      options: {
        type: 'object',
        properties: {
          case_insensitive: { type: 'boolean' },
          context: { type: 'integer' },
          glob: { type: 'string' },
        },
      },
    },
  ],
  ['list_dir', { path: pathProp, depth: { type: 'integer', minimum: 1, maximum: 5 } }],
  ['web_fetch', { url: { type: 'string' }, prompt: { type: 'string' } }],
  [
    'todo_write',
    {
      todos: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            content: { type: 'string' },
            status: { type: 'string', enum: ['pending', 'in_progress', 'completed'] },
          },
          required: ['content', 'status'],
        },
      },
    },
  ],
  ['run_tests', { paths: { type: 'array', items: pathProp }, watch: { type: 'boolean' } }],
  ['git_diff', { base: { type: 'string' }, paths: { type: 'array', items: pathProp } }],
  ['ask_user', { question: { type: 'string' }, choices: { type: 'array', items: { type: 'string' } } }],
];

export const AGENT_TOOLS: Anthropic.Tool[] = TOOL_SPECS.map(([name, properties], i) => ({
  name,
  description: `The ${name.replace('_', ' ')} tool`,
  input_schema: {
    type: 'object',
    properties,
    required: [Object.keys(properties)[0]],
  } as Anthropic.Tool.InputSchema,
  ...(i === TOOL_SPECS.length - 1 ? { cache_control: eph } : {}),
}));

export const AGENT_SYSTEM: Anthropic.TextBlockParam[] = [
  { type: 'text', text: 'You are a coding agent working in a TypeScript monorepo.' },
  { type: 'text', text: 'Repository conventions: small files, tests beside the code.', cache_control: eph },
];

/** The history: the agent read a file (thinking first), ran the tests (they failed), and is asked to go on. */
export function agentHistory(opts: { thinking: boolean }): Anthropic.MessageParam[] {
  const thinking: Anthropic.ContentBlockParam[] = opts.thinking
    ? [
        {
          type: 'thinking',
          thinking: 'Read the parser before running the tests.',
          signature: 'sig-earlier-turn',
        },
      ]
    : [];
  return [
    { role: 'user', content: 'The parser test fails. Fix it.' },
    {
      role: 'assistant',
      content: [
        ...thinking,
        { type: 'text', text: 'Reading the parser and running its tests.' },
        { type: 'tool_use', id: 'toolu_01Read', name: 'read_file', input: { path: 'src/parser.ts' } },
        { type: 'tool_use', id: 'toolu_02Test', name: 'run_tests', input: { paths: ['src/parser.spec.ts'] } },
      ],
    },
    {
      role: 'user',
      content: [
        {
          type: 'tool_result',
          tool_use_id: 'toolu_01Read',
          content: [{ type: 'text', text: 'export function parse(s: string) { return s.split(","); }' }],
        },
        {
          type: 'tool_result',
          tool_use_id: 'toolu_02Test',
          content: '1 failed: empty input',
          is_error: true,
        },
        { type: 'text', text: 'Go on.', cache_control: eph },
      ],
    },
  ];
}

export function codingAgentRequest(model: string, thinking: boolean): Anthropic.MessageCreateParamsStreaming {
  return {
    model,
    max_tokens: 8192,
    system: AGENT_SYSTEM,
    tools: AGENT_TOOLS,
    tool_choice: { type: 'auto' },
    messages: agentHistory({ thinking }),
    stream: true,
    ...(thinking ? { thinking: { type: 'enabled' as const, budget_tokens: 4096 } } : {}),
  };
}
