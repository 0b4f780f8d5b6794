import type { ChatMessage, ChatRequest, ResponseFormat } from './openai-types';

/** Vendor-neutral helpers the mappers share (pure). */

/** `data:<mime>;base64,<data>` → parts; undefined for any other URL. */
export function parseDataUrl(url: string): { mimeType: string; data: string } | undefined {
  const m = /^data:([^;,]+)?((?:;[^;,]*)*?);base64,(.*)$/s.exec(url);
  if (!m) return undefined;
  return { mimeType: m[1] || 'application/octet-stream', data: m[3] };
}

const MIME_BY_EXT: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  heic: 'image/heic',
  heif: 'image/heif',
  pdf: 'application/pdf',
};

/** Best guess of an image URL's media type from its extension (vendors that need one). */
export function guessMimeType(url: string): string {
  let path = url;
  try {
    path = new URL(url).pathname;
  } catch {
    // not absolute: use as is
  }
  const ext = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase();
  return (ext && MIME_BY_EXT[ext]) || 'image/jpeg';
}

/** Text of a string-or-text-parts content. */
export function textOf(content: string | { type: string; text?: string }[] | null | undefined): string {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  return content.map((p) => (p.type === 'text' ? (p.text ?? '') : '')).join('');
}

/** System and developer messages, in order, joined by a blank line. */
export function systemText(messages: ChatMessage[]): string {
  return messages
    .filter((m) => m.role === 'system' || m.role === 'developer')
    .map((m) => textOf(m.content))
    .filter((t) => t.length > 0)
    .join('\n\n');
}

/** `stop` as a list. */
export function stopList(stop: ChatRequest['stop']): string[] | undefined {
  if (stop == null) return undefined;
  const list = typeof stop === 'string' ? [stop] : stop;
  return list.length ? list : undefined;
}

/** Parses tool call arguments; vendors want an object, so anything else becomes `{}`. */
export function parseArguments(args: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(args || '{}');
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * The instruction used for vendors without a native JSON mode: the model is told to answer with
 * JSON only (and with the schema, when one is given).
 */
export function jsonInstruction(format: ResponseFormat | null | undefined): string | undefined {
  if (!format || format.type === 'text') return undefined;
  if (format.type === 'json_object')
    return 'Respond only with a single valid JSON object, with no text before or after it.';
  const schema = format.json_schema.schema ? JSON.stringify(format.json_schema.schema) : '{}';
  return (
    `Respond only with a single valid JSON value, with no text before or after it, ` +
    `that conforms to this JSON Schema (named "${format.json_schema.name}"): ${schema}`
  );
}
