import type { Limits } from '@app/auth';
import { PiiWorkers } from '@app/pii';
import { CallAbort, type ChatRequest } from '@app/providers';
import type { TenantLimitsCache } from '../limits/tenant-limits.cache';
import { RequestPolicyService } from '../policy/request-policy.service';
import type { Catalog } from '../routing/resolve-model';
import type { LoadedSession, SessionMemoryClient } from '../sessions/session-memory.client';
import type { SessionTurn } from '../sessions/session-window';
import type { CallAuditService } from '../usage/call-audit.service';
import type { CallOptions, CallRequest, EmbedRequest } from './call';
import { caller, catalogModel, chatRequest, rejection, routerConfig } from './pipeline.fakes';
import { PolicyStage } from './policy.stage';

const EMAIL_PROMPT = 'write to jane.doe@example.com today';

/** The stage over the real request policy (inline PII scans) with a fake tenant store, audit and session client. */
function setup(tenant: Limits, stored: { turns?: SessionTurn[]; available?: boolean } = {}) {
  const piiAudits: [boolean, unknown, string][] = [];
  const audit = {
    pii: (_c: unknown, blocked: boolean, summary: unknown, resource: string) =>
      piiAudits.push([blocked, summary, resource]),
  } as unknown as CallAuditService;
  const limits = { get: async () => tenant } as unknown as TenantLimitsCache;
  const model = catalogModel({ id: 'gpt-4o-mini', provider: 'openai', upstream: 'gpt-4o-mini' });
  const catalog: Catalog = { models: new Map([[model.id, model]]), routes: new Map() };
  const pii = new PiiWorkers(routerConfig({ ATP_PII_WORKERS: 0 }));
  workers.push(pii);
  const loads: [string, string][] = [];
  const remembered: [LoadedSession, SessionTurn[]][] = [];
  const sessions = {
    windowTokens: 1000,
    load: async (id: string, authorization: string): Promise<LoadedSession> => {
      loads.push([id, authorization]);
      return {
        id,
        authorization,
        turns: stored.turns ?? [],
        etag: null,
        available: stored.available ?? true,
      };
    },
    remember: (s: LoadedSession, turns: SessionTurn[]) => remembered.push([s, turns]),
  } as unknown as SessionMemoryClient;
  const stage = new PolicyStage(new RequestPolicyService(limits, audit, catalog, pii), sessions);
  return { stage, piiAudits, loads, remembered };
}
const workers: PiiWorkers[] = [];

function chatCall(body: ChatRequest, options: CallOptions = {}): CallRequest {
  return { door: 'chat', caller, body, options, signal: new CallAbort(), started: 0 };
}
function embedCall(input: string, model = 'gpt-4o-mini'): EmbedRequest {
  return {
    door: 'embeddings',
    caller,
    body: { model, input },
    options: {},
    signal: new CallAbort(),
    started: 0,
  };
}

describe('PolicyStage', () => {
  afterAll(async () => {
    for (const w of workers) await w.onApplicationShutdown();
  });

  describe('allow-lists', () => {
    it('refuses a model outside the tenant allow-list with 403, before any PII scan or session read', async () => {
      const { stage, piiAudits, loads } = setup({ allowedModels: ['gpt-4o-mini'], piiMode: 'block' });
      const body = chatRequest({ model: 'fast', messages: [{ role: 'user', content: EMAIL_PROMPT }] });
      const err = await rejection(stage.chat(chatCall(body, { sessionId: 's-1' })));
      expect([err.status, err.code, err.message]).toEqual([
        403,
        'model_not_allowed',
        'The model "fast" is not allowed for this tenant; allowed: gpt-4o-mini',
      ]);
      expect([piiAudits, loads]).toEqual([[], []]);
    });

    it("an API key's own allow-list applies too; its provider-qualified twin is the same model", async () => {
      const { stage } = setup({});
      const keyCaller = { ...caller, keyLimits: { allowedModels: ['openai/gpt-4o-mini'] } };
      const allowed = { ...chatCall(chatRequest({ model: 'gpt-4o-mini' })), caller: keyCaller };
      await expect(stage.chat(allowed)).resolves.toMatchObject({ headers: { 'x-atp-pii': 'off' } });
      const refused = { ...chatCall(chatRequest({ model: 'fast' })), caller: keyCaller };
      await expect(stage.chat(refused)).rejects.toMatchObject({ status: 403, code: 'model_not_allowed' });
    });

    it('embeddings are refused the same way', async () => {
      const { stage } = setup({ allowedModels: ['gpt-4o-mini'] });
      await expect(stage.embeddings(embedCall('hi', 'text-embedding-3-small'))).rejects.toMatchObject({
        status: 403,
        code: 'model_not_allowed',
      });
    });
  });

  describe('prompt PII', () => {
    const body = () => chatRequest({ messages: [{ role: 'user', content: EMAIL_PROMPT }] });

    it('redact: the provider gets the redacted prompt, x-atp-pii says redacted, the finding is audited', async () => {
      const { stage, piiAudits } = setup({ piiMode: 'redact' });
      const original = body();
      const policed = await stage.chat(chatCall(original));
      expect(policed.body.messages).toEqual([{ role: 'user', content: 'write to <EMAIL> today' }]);
      expect(policed.headers).toEqual({ 'x-atp-pii': 'redacted' });
      expect(policed.limits.piiMode).toBe('redact');
      expect(piiAudits).toEqual([[false, [{ type: 'EMAIL', count: 1 }], 'chat']]);
      // the door's body is left as it came
      expect(original.messages[0].content).toBe(EMAIL_PROMPT);
    });

    it('block: 422 pii_blocked carrying x-atp-pii: blocked, audited as blocked', async () => {
      const { stage, piiAudits } = setup({ piiMode: 'block' });
      const err = await rejection(stage.chat(chatCall(body())));
      expect([err.status, err.code, err.headers]).toEqual([422, 'pii_blocked', { 'x-atp-pii': 'blocked' }]);
      expect(piiAudits).toEqual([[true, [{ type: 'EMAIL', count: 1 }], 'chat']]);
    });

    it('x-atp-pii is none for a clean prompt under a policy, off without one', async () => {
      const clean = chatRequest({ messages: [{ role: 'user', content: 'no personal data here' }] });
      const redacting = await setup({ piiMode: 'redact' }).stage.chat(chatCall(clean));
      expect([redacting.headers, redacting.body]).toEqual([{ 'x-atp-pii': 'none' }, clean]);
      const off = await setup({}).stage.chat(chatCall(body()));
      expect([off.headers, off.body.messages[0].content]).toEqual([{ 'x-atp-pii': 'off' }, EMAIL_PROMPT]);
    });

    it('embedding inputs are redacted and labelled the same way, with no session', async () => {
      const { stage, piiAudits } = setup({ piiMode: 'redact' });
      const policed = await stage.embeddings(embedCall(EMAIL_PROMPT));
      expect([policed.body.input, policed.headers, policed.session]).toEqual([
        'write to <EMAIL> today',
        { 'x-atp-pii': 'redacted' },
        null,
      ]);
      expect(piiAudits).toEqual([[false, [{ type: 'EMAIL', count: 1 }], 'embeddings']]);
    });
  });

  describe('sessions', () => {
    const turns: SessionTurn[] = [
      { role: 'user', content: 'my name is Ada' },
      { role: 'assistant', content: 'hello Ada' },
    ];
    const withSystem = chatRequest({
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'what is my name?' },
      ],
    });

    it('without x-atp-session-id nothing is read and there is no session', async () => {
      const { stage, loads } = setup({});
      const policed = await stage.chat(chatCall(withSystem));
      expect([policed.session, policed.headers, loads]).toEqual([null, { 'x-atp-pii': 'off' }, []]);
    });

    it('stored turns go after the system messages; x-atp-session: hit; the new user turn is kept to remember', async () => {
      const { stage, loads } = setup({}, { turns });
      const policed = await stage.chat(
        chatCall(withSystem, { sessionId: 'conv-1', sessionAuthorization: 'Bearer k' }),
      );
      expect(loads).toEqual([['conv-1', 'Bearer k']]);
      expect(policed.body.messages).toEqual([
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'my name is Ada' },
        { role: 'assistant', content: 'hello Ada' },
        { role: 'user', content: 'what is my name?' },
      ]);
      expect(policed.headers).toEqual({ 'x-atp-pii': 'off', 'x-atp-session': 'hit' });
      expect(policed.session?.userTurn).toBe('what is my name?');
    });

    it('x-atp-session is new for an empty session and unavailable when the gateway could not be read', async () => {
      const fresh = await setup({}, { turns: [] }).stage.chat(chatCall(withSystem, { sessionId: 'c' }));
      expect([fresh.headers['x-atp-session'], fresh.body.messages]).toEqual(['new', withSystem.messages]);
      const down = await setup({}, { available: false }).stage.chat(chatCall(withSystem, { sessionId: 'c' }));
      expect(down.headers['x-atp-session']).toBe('unavailable');
    });

    it('the user turn kept for the session is the redacted one', async () => {
      const { stage } = setup({ piiMode: 'redact' }, { turns });
      const policed = await stage.chat(
        chatCall(chatRequest({ messages: [{ role: 'user', content: EMAIL_PROMPT }] }), { sessionId: 'c' }),
      );
      expect(policed.session?.userTurn).toBe('write to <EMAIL> today');
    });

    it('remember appends the user turn and the answer; nothing without a session, a user turn or an answer', async () => {
      const { stage, remembered } = setup({}, { turns });
      const policed = await stage.chat(chatCall(withSystem, { sessionId: 'conv-1' }));
      stage.remember(policed.session, 'Your name is Ada.');
      stage.remember(null, 'ignored');
      stage.remember(policed.session, '');
      stage.remember(policed.session && { ...policed.session, userTurn: null }, 'ignored');
      expect(remembered.map(([s, added]) => [s.id, added])).toEqual([
        [
          'conv-1',
          [
            { role: 'user', content: 'what is my name?' },
            { role: 'assistant', content: 'Your name is Ada.' },
          ],
        ],
      ]);
    });
  });
});
