/**
 * Plain values and fakes for the pipeline's unit specs (imported by *.spec.ts only): a catalog
 * model, a caller, chat requests and answers, stream chunks, a route plan and an admission ticket.
 */
import type { Caller } from '@app/auth';
import { AtpError } from '@app/common';
import type { AppConfig } from '@app/config';
import type { ChatChunk, ChatRequest, ChatResponse, Usage } from '@app/providers';
import { AdmissionTicket } from '../limits/admission.service';
import type { CatalogModel } from '../routing/catalog';
import type { RoutePlan } from '../routing/routing.service';
import type { SessionState } from './policy.stage';

/** A chat model at $1 per 1M input tokens and $2 per 1M output tokens. */
export function catalogModel(overrides: Partial<CatalogModel> = {}): CatalogModel {
  const id = overrides.id ?? 'model-a';
  return {
    id,
    provider: 'openai',
    upstream: `${id}-upstream`,
    kind: 'chat',
    inputPer1M: 1,
    outputPer1M: 2,
    contextWindow: 100_000,
    maxOutputTokens: 4096,
    quality: 0.5,
    capabilities: { tools: true, vision: false, json: true },
    ...overrides,
  };
}

export const caller: Caller = {
  tenantId: 'tenant-1',
  subject: 'api_key:key-1',
  scopes: ['llm'],
  credentialId: 'key-1',
  type: 'api_key',
  keyLimits: null,
  requestId: 'req-1',
  sourceIp: null,
};

export function chatRequest(overrides: Partial<ChatRequest> = {}): ChatRequest {
  return { model: 'fast', messages: [{ role: 'user', content: 'hello there' }], ...overrides };
}

export function chatResponse(model: string, content: string, usage: Usage): ChatResponse {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1_700_000_000,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage,
  };
}

/** One streamed chunk: text for choice 0, a finish reason, or (with no choices) the final usage. */
export function chunk(
  delta: { content?: string; finish?: 'stop' | 'length'; usage?: Usage },
  model = 'upstream-name',
): ChatChunk {
  const choices = delta.usage
    ? []
    : [{ index: 0, delta: { content: delta.content }, finish_reason: delta.finish ?? null }];
  const c: ChatChunk = { id: 'chatcmpl-s', object: 'chat.completion.chunk', created: 1, model, choices };
  if (delta.usage) c.usage = delta.usage;
  return c;
}

/** A session with nothing stored yet, waiting to remember the turn "hello there". */
export const session: SessionState = {
  loaded: { id: 's', authorization: '', turns: [], etag: null, available: true },
  userTurn: 'hello there',
};

export function routePlan(attempts: CatalogModel[], route = 'fast', cache = false): RoutePlan {
  return {
    route: { route, strategy: 'ordered', candidates: attempts, weights: attempts.map(() => 1), cache },
    attempts,
  };
}

/** An admission that charged something (so settle has work) and carries rate-limit headers. */
export function admissionTicket(headers: Record<string, string> = { 'x-ratelimit-limit-requests': '10' }) {
  const charged = { tenantId: caller.tenantId } as unknown as AdmissionTicket['charged'];
  return new AdmissionTicket(charged, 7, headers);
}

/** The router config with only the env values a spec needs. */
export function routerConfig(env: Partial<AppConfig<'router'>['env']>): AppConfig<'router'> {
  return { env } as unknown as AppConfig<'router'>;
}

/** The AtpError a promise rejects with; a result or any other error fails the spec. */
export async function rejection(promise: Promise<unknown>): Promise<AtpError> {
  const err = await promise.then(
    () => new Error('expected an AtpError, got a result'),
    (e: unknown) => e,
  );
  if (err instanceof AtpError) return err;
  throw err;
}
