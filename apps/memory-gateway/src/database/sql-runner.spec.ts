import { inlineStatement, sql } from './sql-runner';

describe('inlineStatement', () => {
  it('replaces each placeholder with a literal of its value', () => {
    expect(inlineStatement(sql('SELECT ?, ?, ?, ?, ?', 1, 'a', null, undefined, true))).toBe(
      "SELECT 1, 'a', NULL, NULL, TRUE",
    );
  });

  it('escapes quotes and backslashes, so no string can end its literal', () => {
    expect(inlineStatement(sql('SELECT ?', "it's"))).toBe("SELECT 'it''s'");
    // A backslash makes it an E'' string with the backslash doubled; the quote is still doubled.
    expect(inlineStatement(sql('SELECT ?', "a\\'; DROP TABLE x; --"))).toBe(
      "SELECT  E'a\\\\''; DROP TABLE x; --'",
    );
  });

  it('parenthesises negative numbers (no `--` comment can form) and hex-decodes bytes', () => {
    expect(inlineStatement(sql('SELECT x -?', -5))).toBe('SELECT x -(-5)');
    expect(inlineStatement(sql('SELECT ?', Buffer.from([0, 255, 16])))).toBe(
      "SELECT decode('00ff10', 'hex')",
    );
  });

  it('refuses values it cannot write safely, and a wrong parameter count', () => {
    expect(() => inlineStatement(sql('SELECT ?', Number.NaN))).toThrow(TypeError);
    expect(() => inlineStatement(sql('SELECT ?', { a: 1 }))).toThrow(TypeError);
    expect(() => inlineStatement(sql('SELECT ?, ?', 1))).toThrow(/placeholder count/);
    expect(() => inlineStatement(sql('SELECT ?', 1, 2))).toThrow(/placeholder count/);
  });
});
