import { AtpError } from '@app/common';
import {
  type ChatChunk,
  type ChatRequest,
  type ChatResponse,
  estimatePromptTokens,
  makeUsage,
  ProviderError,
  type Usage,
} from '@app/providers';
import { ChunkAssembler, replayAsChunks } from '../cache/response-cache';
import { callCost } from '../routing/catalog';
import { StreamCut } from './call';
import { clientClosedError, shuttingDownError } from './call-errors';
import type { AttemptOutcome } from './fallback';
import type { OpenedStream } from './invoke.stage';
import type { CallEnd } from './ledger';
import type { AdmittedCall } from './pipeline';

/** What the relay hands back to the pipeline when the stream ends. */
export interface RelayEnds {
  /** Closes the call in the ledger (resolves once durable records are committed). */
  close(end: CallEnd): Promise<void>;
  /** The answer's text, for the session (successful streams only). */
  remember(answer: string): void;
  /** The whole answer, for the response cache (successful streams only). */
  store(complete: ChatResponse): void;
}

/** Counts what a stream relayed: the vendor's usage when it sent one, else the text to estimate it from. */
class StreamTally {
  usage: Usage | null = null;
  completionChars = 0;
  answer = '';

  constructor(private readonly keepAnswer: boolean) {}

  add(chunk: ChatChunk): void {
    if (chunk.usage) this.usage = chunk.usage;
    for (const c of chunk.choices) {
      this.completionChars += (c.delta.content ?? '').length;
      if (this.keepAnswer && c.index === 0) this.answer += c.delta.content ?? '';
      for (const t of c.delta.tool_calls ?? []) this.completionChars += (t.function?.arguments ?? '').length;
      for (const t of c.delta.thinking_blocks ?? []) this.completionChars += (t.thinking ?? '').length;
    }
  }

  /** Without the vendor's count (a cut stream), completion tokens are estimated: ~4 characters a token. */
  final(body: ChatRequest): Usage {
    return this.usage ?? makeUsage(estimatePromptTokens(body), Math.ceil(this.completionChars / 4), true);
  }
}

/**
 * Relays an opened stream chunk by chunk (each labelled with the catalog model's id). When it
 * ends — done, cut by the upstream, abandoned by the client, or ended by the shutdown — the call
 * is closed in the ledger with the usage so far, and only then does the iteration finish: on a
 * cut it throws a StreamCut for the door to render as its own error event.
 */
export async function* relayStream(
  call: AdmittedCall<ChatRequest>,
  opened: AttemptOutcome<OpenedStream>,
  ttftMs: number,
  ends: RelayEnds,
): AsyncGenerator<ChatChunk> {
  const { model, attempts } = opened;
  const { iterator, first } = opened.result;
  const tally = new StreamTally(call.session !== null);
  const assembler = call.cache?.key ? new ChunkAssembler() : null;
  let end: CallEnd | null = null;
  let cut: StreamCut | null = null;
  try {
    for (let next = first; !next.done; next = await iterator.next()) {
      const chunk: ChatChunk = { ...next.value, model: model.id };
      tally.add(chunk);
      assembler?.add(chunk);
      yield chunk;
    }
    end = streamEnd(200, 'ok');
  } catch (err) {
    const partial = err instanceof ProviderError ? err.partialUsage : undefined;
    if (partial) tally.usage = partial;
    if (call.shutdown) {
      // The grace is running out: a retryable error event; the tokens relayed so far are billed.
      end = streamEnd(503, 'shutdown');
      cut = new StreamCut(shuttingDownError(), false);
    } else if (call.clientGone()) {
      end = streamEnd(499, 'client_closed');
      cut = new StreamCut(clientClosedError(), true);
    } else {
      // After the first byte there is no fallback: the door ends the stream with an error event.
      const code = err instanceof ProviderError ? err.code : 'upstream_error';
      end = streamEnd(502, 'error');
      cut = new StreamCut(new AtpError(502, code, `Stream interrupted: ${(err as Error).message}`), false);
    }
  } finally {
    await iterator.return?.().catch(() => undefined);
    // No end: the door stopped iterating early (its client is gone).
    const final = tally.final(call.body);
    const how = end ?? streamEnd(499, 'client_closed');
    await ends.close({ ...how, model, usage: final, costUsd: callCost(model, final), attempts, ttftMs });
  }
  if (cut) throw cut;
  ends.remember(tally.answer);
  const complete = tally.usage ? assembler?.build(tally.usage) : null;
  if (complete) ends.store(complete);
}

function streamEnd(status: number, outcome: CallEnd['outcome']): CallEnd {
  return {
    status,
    outcome,
    model: null,
    usage: makeUsage(0, 0),
    costUsd: 0,
    attempts: 0,
    stream: true,
    ttftMs: null,
    cached: false,
  };
}

/** A cached answer replayed as the chunks a stream would have carried. */
export async function* replayStream(hit: ChatResponse): AsyncGenerator<ChatChunk> {
  for (const chunk of replayAsChunks(hit)) yield chunk;
}
