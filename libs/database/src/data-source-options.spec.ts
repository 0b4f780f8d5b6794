import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source-options';
import { sqliteConnection } from './sqlite-connection';

describe('dataSourceOptions (embedded SQLite)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'atp-ds-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // SQLite's codes: 1 = NORMAL, 2 = FULL.
  it.each([
    ['normal', 1],
    ['full', 2],
  ] as const)('opens the file in WAL mode with synchronous = %s', async (synchronous, code) => {
    const path = join(dir, `${synchronous}.sqlite`);
    const ds = await new DataSource(dataSourceOptions({ type: 'sqlite', path, synchronous })).initialize();
    try {
      const conn = sqliteConnection(ds);
      expect(conn.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(conn.pragma('synchronous', { simple: true })).toBe(code);
    } finally {
      await ds.destroy();
    }
  });
});
