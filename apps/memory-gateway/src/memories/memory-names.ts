import { AtpError } from '@app/common';

/** Namespace and key names: identifiers, stored as they are, so they must not carry free text. */
export const NAME_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
const ONLY_DOTS = /^\.+$/;

/** @throws AtpError 400 `invalid_namespace` / `invalid_key` naming the rule. */
export function assertName(value: unknown, param: 'namespace' | 'key'): string {
  if (typeof value !== 'string' || !NAME_PATTERN.test(value) || ONLY_DOTS.test(value)) {
    throw AtpError.badRequest(
      `invalid_${param}`,
      `${param} must be 1-128 characters of A-Z, a-z, 0-9, '.', '_', ':' or '-' (and not only dots)`,
      param,
    );
  }
  return value;
}

/** A list prefix: empty, or the start of a valid name. */
export function assertPrefix(value: string | undefined): string {
  if (value === undefined || value === '') return '';
  if (!/^[A-Za-z0-9._:-]{1,128}$/.test(value)) {
    throw AtpError.badRequest(
      'invalid_prefix',
      "prefix must be at most 128 characters of A-Z, a-z, 0-9, '.', '_', ':' or '-'",
      'prefix',
    );
  }
  return value;
}

/** Opaque list cursor: the last key of the previous page. */
export function encodeListCursor(lastKey: string): string {
  return Buffer.from(`k:${lastKey}`, 'utf8').toString('base64url');
}

/** @throws AtpError 400 `invalid_cursor` */
export function decodeListCursor(cursor: string | undefined): string | null {
  if (cursor === undefined || cursor === '') return null;
  const decoded = /^[A-Za-z0-9_-]{1,400}$/.test(cursor)
    ? Buffer.from(cursor, 'base64url').toString('utf8')
    : '';
  const key = decoded.startsWith('k:') ? decoded.slice(2) : '';
  if (!NAME_PATTERN.test(key)) {
    throw AtpError.badRequest('invalid_cursor', 'cursor is not a next_cursor this API returned', 'cursor');
  }
  return key;
}

/**
 * Parses `If-Match`: a version number, quoted or not (`3`, `"3"`, `W/"3"`), or `*` (any
 * existing record). Absent → null. @throws AtpError 400 `invalid_if_match`
 */
export function parseIfMatch(header: string | string[] | undefined): number | '*' | null {
  if (header === undefined) return null;
  const raw = (Array.isArray(header) ? header.join(',') : header).trim();
  if (raw === '*') return '*';
  const m = /^(?:W\/)?"?(\d{1,15})"?$/.exec(raw);
  if (!m) {
    throw AtpError.badRequest(
      'invalid_if_match',
      'If-Match must be a record version as returned in ETag (e.g. "3") or *',
      'If-Match',
    );
  }
  return Number(m[1]);
}

/** The ETag header of a version (a strong, quoted entity tag). */
export function etagOf(version: number): string {
  return `"${version}"`;
}
