import { AtpError } from '@app/common';
import {
  assertName,
  assertPrefix,
  decodeListCursor,
  encodeListCursor,
  etagOf,
  parseIfMatch,
} from './memory-names';

function codeOf(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (err) {
    return err instanceof AtpError ? `${err.status} ${err.code}` : 'other';
  }
}

describe('memory names', () => {
  it.each(['a', 'A-z_0.9:x', 'k'.repeat(128), 'user:42', '.hidden', 'a..b'])('accepts %s', (name) => {
    expect(assertName(name, 'key')).toBe(name);
  });

  it.each(['', 'k'.repeat(129), 'a b', 'a/b', 'é', 'a@b', '.', '..', 'a#b', 'a%20b', 'x\n'])(
    'rejects %j',
    (name) => {
      expect(codeOf(() => assertName(name, 'key'))).toBe('400 invalid_key');
      expect(codeOf(() => assertName(name, 'namespace'))).toBe('400 invalid_namespace');
    },
  );

  it('rejects non-strings', () => {
    expect(codeOf(() => assertName(undefined, 'key'))).toBe('400 invalid_key');
    expect(codeOf(() => assertName(42, 'key'))).toBe('400 invalid_key');
  });

  it('prefixes: empty or a name start', () => {
    expect(assertPrefix(undefined)).toBe('');
    expect(assertPrefix('')).toBe('');
    expect(assertPrefix('item-')).toBe('item-');
    expect(codeOf(() => assertPrefix('a b'))).toBe('400 invalid_prefix');
  });

  it('cursors round-trip and reject anything else', () => {
    expect(decodeListCursor(encodeListCursor('item-3'))).toBe('item-3');
    expect(decodeListCursor(undefined)).toBeNull();
    expect(codeOf(() => decodeListCursor('nonsense!'))).toBe('400 invalid_cursor');
    expect(codeOf(() => decodeListCursor(Buffer.from('k:a b').toString('base64url')))).toBe(
      '400 invalid_cursor',
    );
  });

  it('If-Match: bare, quoted, weak, * or absent', () => {
    expect(parseIfMatch(undefined)).toBeNull();
    expect(parseIfMatch('3')).toBe(3);
    expect(parseIfMatch('"3"')).toBe(3);
    expect(parseIfMatch('W/"12"')).toBe(12);
    expect(parseIfMatch('*')).toBe('*');
    expect(codeOf(() => parseIfMatch('"a"'))).toBe('400 invalid_if_match');
    expect(etagOf(7)).toBe('"7"');
  });
});
