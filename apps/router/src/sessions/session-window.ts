import { type ChatMessage, type ChatRequest, estimateTokens } from '@app/providers';

/** One stored turn of a session (text only: tool calls and images are not remembered). */
export interface SessionTurn {
  role: 'user' | 'assistant';
  content: string;
}

export const SESSION_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

const turnTokens = (t: SessionTurn) => 4 + estimateTokens(t.content);

/** The newest turns that fit in `windowTokens`, in chronological order. */
export function selectWindow(turns: readonly SessionTurn[], windowTokens: number): SessionTurn[] {
  const picked: SessionTurn[] = [];
  let used = 0;
  for (let i = turns.length - 1; i >= 0; i--) {
    used += turnTokens(turns[i]);
    if (used > windowTokens) break;
    picked.push(turns[i]);
  }
  // never open the window with an answer whose question fell out of it
  if (picked.length && picked[picked.length - 1].role === 'assistant') picked.pop();
  return picked.reverse();
}

/** The request with the history inserted after its leading system/developer messages. */
export function withHistory(body: ChatRequest, history: readonly SessionTurn[]): ChatRequest {
  if (!history.length) return body;
  const lead = body.messages.findIndex((m) => m.role !== 'system' && m.role !== 'developer');
  const at = lead < 0 ? body.messages.length : lead;
  const turns = history.map((t) => ({ role: t.role, content: t.content }) as ChatMessage);
  return { ...body, messages: [...body.messages.slice(0, at), ...turns, ...body.messages.slice(at)] };
}

/** The text of the request's last user message (the turn to remember), if any. */
export function lastUserText(body: ChatRequest): string | null {
  for (let i = body.messages.length - 1; i >= 0; i--) {
    const m = body.messages[i];
    if (m.role !== 'user') continue;
    if (typeof m.content === 'string') return m.content;
    return m.content.map((p) => (p.type === 'text' ? p.text : '')).join('');
  }
  return null;
}

/** Appends the new turns and drops the oldest beyond `keepTokens`, so a session stays bounded. */
export function appendTurns(
  stored: readonly SessionTurn[],
  added: readonly SessionTurn[],
  keepTokens: number,
): SessionTurn[] {
  const all = [...stored, ...added];
  let used = 0;
  let from = all.length;
  while (from > 0 && used + turnTokens(all[from - 1]) <= keepTokens) used += turnTokens(all[--from]);
  return all.slice(from);
}

/** Stored JSON → turns, ignoring anything that is not a text turn. */
export function parseTurns(value: unknown): SessionTurn[] {
  const turns = (value as { turns?: unknown } | null)?.turns;
  if (!Array.isArray(turns)) return [];
  return turns.filter(
    (t): t is SessionTurn =>
      !!t && (t.role === 'user' || t.role === 'assistant') && typeof (t as SessionTurn).content === 'string',
  );
}
