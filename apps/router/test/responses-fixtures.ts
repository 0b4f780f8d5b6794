/**
 * A request shaped like a coding agent's through POST /v1/responses (what Codex or the OpenAI
 * Agents SDK send): long instructions, a dozen function tools with nested JSON Schemas, a
 * multi-turn history with function calls (one of them parallel) and their outputs, `stream`,
 * reasoning settings and the cache/include hints those clients add.
 */

const str = (description: string) => ({ type: 'string', description });

function tool(name: string, description: string, properties: Record<string, unknown>, required: string[]) {
  return {
    type: 'function' as const,
    name,
    description,
    parameters: { type: 'object', properties, required, additionalProperties: false },
    strict: false,
  };
}

export const CODING_AGENT_TOOLS = [
  tool(
    'read_file',
    'Read a file',
    {
      path: str('Repository path'),
      range: { type: 'object', properties: { start: { type: 'integer' }, end: { type: 'integer' } } },
    },
    ['path'],
  ),
  tool(
    'edit_file',
    'Apply edits to a file',
    {
      path: str('Repository path'),
      edits: {
        type: 'array',
        items: {
          type: 'object',
          properties: { find: str('Exact text'), replace: str('Replacement') },
          required: ['find', 'replace'],
        },
      },
    },
    ['path', 'edits'],
  ),
  tool(
    'run_tests',
    'Run the test suite',
    {
      pattern: str('Test path pattern'),
      options: {
        type: 'object',
        properties: { watch: { type: 'boolean' }, bail: { type: 'integer', minimum: 0 } },
      },
    },
    ['pattern'],
  ),
  tool(
    'search_code',
    'Search the repository',
    { query: str('Regex'), globs: { type: 'array', items: { type: 'string' } } },
    ['query'],
  ),
  tool(
    'list_dir',
    'List a directory',
    { path: str('Directory'), depth: { type: 'integer', minimum: 1, maximum: 5 } },
    ['path'],
  ),
  tool(
    'shell',
    'Run a shell command',
    { command: { type: 'array', items: { type: 'string' } }, timeout_ms: { type: 'integer' } },
    ['command'],
  ),
  tool('git_diff', 'Show the working tree diff', { staged: { type: 'boolean' } }, []),
  tool(
    'git_commit',
    'Commit staged changes',
    {
      message: str('Commit message'),
      trailers: {
        type: 'array',
        items: {
          type: 'object',
          properties: { key: { type: 'string' }, value: { type: 'string' } },
          required: ['key', 'value'],
        },
      },
    },
    ['message'],
  ),
  tool(
    'open_pr',
    'Open a pull request',
    {
      title: str('Title'),
      body: str('Body'),
      labels: { type: 'array', items: { type: 'string', enum: ['bug', 'feature', 'chore'] } },
    },
    ['title'],
  ),
  tool(
    'fetch_url',
    'Fetch a URL',
    {
      url: { type: 'string', format: 'uri' },
      headers: { type: 'object', additionalProperties: { type: 'string' } },
    },
    ['url'],
  ),
  tool(
    'todo_write',
    'Update the task list',
    {
      items: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            status: { type: 'string', enum: ['pending', 'in_progress', 'done'] },
            note: {
              type: 'object',
              properties: { text: { type: 'string' }, tags: { type: 'array', items: { type: 'string' } } },
            },
          },
          required: ['id', 'status'],
        },
      },
    },
    ['items'],
  ),
  tool(
    'ask_user',
    'Ask the user a question',
    { question: str('Question'), choices: { type: 'array', items: { type: 'string' }, maxItems: 4 } },
    ['question'],
  ),
];

/** History items as a Responses client writes them. */
const say = (role: 'user' | 'assistant', text: string) => ({
  type: 'message',
  role,
  content: [{ type: role === 'user' ? 'input_text' : 'output_text', text }],
});
const call = (call_id: string, name: string, args: string) => ({
  type: 'function_call',
  call_id,
  name,
  arguments: args,
});
const output = (call_id: string, output: unknown) => ({ type: 'function_call_output', call_id, output });

export const CODING_AGENT_REQUEST = {
  model: 'claude-sonnet-4-5',
  instructions:
    'You are a coding agent working in a TypeScript monorepo. Read before you edit, keep changes small, run the tests after every edit, and never commit secrets.',
  tools: CODING_AGENT_TOOLS,
  tool_choice: 'auto',
  parallel_tool_calls: true,
  stream: true,
  store: false,
  reasoning: { effort: 'high', summary: 'auto' },
  include: ['reasoning.encrypted_content'],
  prompt_cache_key: 'session-42',
  input: [
    say('user', 'Rename a to b in src/app.ts and make the tests pass.'),
    { type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: 'gAAAAB-opaque' },
    call('call_read', 'read_file', '{"path":"src/app.ts"}'),
    output('call_read', 'export const a = 1;\n'),
    say('assistant', 'Editing and testing now.'),
    // The parallel turn: two calls, then their two outputs.
    call('call_edit', 'edit_file', '{"path":"src/app.ts","edits":[{"find":"a","replace":"b"}]}'),
    call('call_test', 'run_tests', '{"pattern":"app"}'),
    output('call_edit', 'applied 1 edit'),
    output('call_test', [{ type: 'input_text', text: 'PASS src/app.spec.ts (3 tests)' }]),
    say('assistant', 'Renamed; the tests pass.'),
    { type: 'message', role: 'user', content: 'Great. Now check the other references.' },
  ],
};
