import { applyPii, type PiiResult, type PiiTypeCount } from '@app/pii';
import type { ChatRequest, EmbeddingRequest } from '@app/providers';

export type PromptPiiMode = 'off' | 'redact' | 'block';

/** What the policy did: the value of the `x-atp-pii` response header. */
export type PromptPiiAction = 'off' | 'none' | 'redacted' | 'blocked';

export interface PromptPiiResult<T> {
  body: T;
  action: PromptPiiAction;
  /** Entity types and counts only, never the text. */
  summary: PiiTypeCount[];
}

/** Runs the PII library on one text: inline by default, on worker threads in the service. */
export type PromptScan = (text: string, mode: 'redact' | 'block') => Promise<PiiResult>;

const inlineScan: PromptScan = (text, mode) => Promise.resolve(applyPii(text, mode));

function merge(into: Map<string, number>, summary: readonly PiiTypeCount[]): void {
  for (const s of summary) into.set(s.type, (into.get(s.type) ?? 0) + s.count);
}

function finish<T>(body: T, found: Map<string, number>, mode: PromptPiiMode): PromptPiiResult<T> {
  const summary = [...found]
    .map(([type, count]) => ({ type, count }) as PiiTypeCount)
    .sort((a, b) => (a.type < b.type ? -1 : 1));
  if (!summary.length) return { body, action: 'none', summary };
  return { body, action: mode === 'block' ? 'blocked' : 'redacted', summary };
}

/**
 * Runs the policy over a body: `rewrite` passes each text of the body through `scan` and returns
 * the body with the scanned texts. The rewritten body is kept only when redacting found something;
 * otherwise the caller's body goes on untouched.
 */
async function applyPolicy<T>(
  body: T,
  mode: PromptPiiMode,
  scanText: PromptScan,
  rewrite: (scan: (text: string) => Promise<string>) => Promise<T>,
): Promise<PromptPiiResult<T>> {
  if (mode === 'off') return { body, action: 'off', summary: [] };
  const piiMode = mode === 'block' ? 'block' : 'redact';
  const found = new Map<string, number>();
  const rewritten = await rewrite(async (text) => {
    const r = await scanText(text, piiMode);
    merge(found, r.summary);
    return r.text;
  });
  return finish(found.size && mode === 'redact' ? rewritten : body, found, mode);
}

/**
 * Applies the tenant's prompt policy to every text the provider would see: message contents
 * (strings and text parts) of every role. Tool definitions and tool-call arguments are left as
 * they are (they are code, and rewriting them breaks the call). A new body is returned; the
 * input is never mutated.
 */
export function applyPromptPii(
  body: ChatRequest,
  mode: PromptPiiMode,
  scanText: PromptScan = inlineScan,
): Promise<PromptPiiResult<ChatRequest>> {
  return applyPolicy(body, mode, scanText, async (scan) => {
    const messages = await Promise.all(
      body.messages.map(async (m) => {
        const content = m.content;
        if (typeof content === 'string') return { ...m, content: await scan(content) };
        if (Array.isArray(content)) {
          const parts = await Promise.all(
            content.map(async (p) => (p.type === 'text' ? { ...p, text: await scan(p.text) } : p)),
          );
          return { ...m, content: parts };
        }
        return m;
      }),
    );
    return { ...body, messages: messages as ChatRequest['messages'] };
  });
}

/** The same policy on embedding inputs (token-id inputs carry no text and pass as they are). */
export function applyEmbeddingPii(
  body: EmbeddingRequest,
  mode: PromptPiiMode,
  scanText: PromptScan = inlineScan,
): Promise<PromptPiiResult<EmbeddingRequest>> {
  return applyPolicy(body, mode, scanText, async (scan) => {
    const input = body.input;
    const next =
      typeof input === 'string'
        ? await scan(input)
        : await Promise.all(
            (input as unknown[]).map((item) => (typeof item === 'string' ? scan(item) : item)),
          );
    return { ...body, input: next } as EmbeddingRequest;
  });
}
