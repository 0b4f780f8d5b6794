import { sse, type FakeFinish, type FakeReply } from '../../testing/fake-wire.common';

/** Gemini GenerateContentResponse bodies and `alt=sse` events. */
const GEMINI_FINISH: Record<FakeFinish, string> = {
  stop: 'STOP',
  length: 'MAX_TOKENS',
  content_filter: 'SAFETY',
};

function geminiUsage(r: FakeReply) {
  if (!r.usage) return undefined;
  const { prompt, completion } = r.usage;
  return { promptTokenCount: prompt, candidatesTokenCount: completion, totalTokenCount: prompt + completion };
}

function geminiParts(r: FakeReply, text: string | undefined): unknown[] {
  const parts: unknown[] = text !== undefined ? [{ text }] : [];
  for (const c of r.toolCalls) parts.push({ functionCall: { name: c.name, args: c.arguments } });
  return parts;
}

export function geminiResponse(r: FakeReply): unknown {
  const text = r.toolCalls.length ? undefined : r.pieces.join('');
  return {
    candidates: [
      {
        content: { parts: geminiParts(r, text), role: 'model' },
        finishReason: GEMINI_FINISH[r.finish],
        index: 0,
      },
    ],
    ...(r.usage ? { usageMetadata: geminiUsage(r) } : {}),
    modelVersion: r.model,
    responseId: r.id,
  };
}

/** `alt=sse` framing as the real API sends it: `data: {…}\r\n\r\n`, no terminator event. */
export function geminiStream(r: FakeReply): string[] {
  const pieces = r.toolCalls.length ? [''] : r.pieces;
  return pieces.map((piece, i) => {
    const last = i === pieces.length - 1;
    const cand: Record<string, unknown> = {
      content: {
        parts: last ? geminiParts(r, r.toolCalls.length ? undefined : piece) : [{ text: piece }],
        role: 'model',
      },
      index: 0,
    };
    if (last) cand.finishReason = GEMINI_FINISH[r.finish];
    const usage = last
      ? geminiUsage(r)
      : r.usage
        ? { promptTokenCount: r.usage.prompt, totalTokenCount: r.usage.prompt }
        : undefined;
    return sse(
      {
        candidates: [cand],
        ...(usage ? { usageMetadata: usage } : {}),
        modelVersion: r.model,
        responseId: r.id,
      },
      undefined,
      true,
    );
  });
}

const GOOGLE_STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

export function googleError(status: number): unknown {
  return {
    error: {
      code: status,
      message: `fake upstream error (${status})`,
      status: GOOGLE_STATUS[status] ?? 'UNKNOWN',
    },
  };
}

export function googleStreamError(): string {
  return sse(
    { error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } },
    undefined,
    true,
  );
}
