import { type BootedApp, bootApp, createTestEnv, SERVICES_LABEL, type TestEnv } from '@app/testing';
import { AppModule } from '../src/app.module';
import { client, type Client, createTenant } from './memory-helpers';

interface Hit {
  key: string;
  score: number;
}

/**
 * Search never matches through a redaction placeholder (CONTRACT §7): a value stored as
 * "<EMAIL>" must not be found by another email address, nor by the word "EMAIL", while plain
 * words and the keyed-hash search of mode `hash` keep working.
 */
describe(`memory search and PII placeholders on ${SERVICES_LABEL}`, () => {
  let testEnv: TestEnv;
  let gateway: BootedApp;
  let api: Client;

  const search = async (namespace: string, query: string): Promise<Hit[]> => {
    const res = await api.post(`/v1/memory/${namespace}/search`, { query }).expect(200);
    return (res.body.results as Hit[]).map((r) => ({ key: r.key, score: r.score }));
  };

  beforeAll(async () => {
    testEnv = await createTestEnv();
    gateway = await bootApp('memory-gateway', AppModule, testEnv.env);
    api = client(gateway, (await createTenant(gateway, 'search tenant')).key);
    // mode redact (the default): the email is stored as <EMAIL>, the card as <CREDIT_CARD>.
    await api
      .put('/v1/memory/notes/alice', { value: 'contact alice@example.com about the invoice' })
      .expect(201);
    await api
      .put('/v1/memory/notes/card', { value: { pan: '4242 4242 4242 4242', note: 'refund' } })
      .expect(201);
    await api.put('/v1/memory/notes/words', { value: 'please email me the phone bill' }).expect(201);
    await api.put('/v1/admin/memory-namespaces/hashed', { pii_mode: 'hash' }).expect(200);
    await api.put('/v1/memory/hashed/alice', { value: 'contact alice@example.com today' }).expect(201);
    await api.put('/v1/memory/hashed/bob', { value: 'contact Bob@Other.org today' }).expect(201);
    await api.put('/v1/admin/memory-namespaces/masked', { pii_mode: 'mask' }).expect(200);
    await api.put('/v1/memory/masked/card', { value: 'card 4242 4242 4242 4242' }).expect(201);
  });
  afterAll(async () => {
    await gateway?.close();
    await testEnv?.cleanup();
  });

  it('another email address, or the word EMAIL, finds no record that held an email', async () => {
    const stored = (await api.get('/v1/memory/notes/alice').expect(200)).body.value;
    expect(stored).toBe('contact <EMAIL> about the invoice');
    expect(await search('notes', 'bob@other.org')).toEqual([]);
    expect(await search('notes', 'alice@example.com')).toEqual([]);
    expect(await search('notes', '<EMAIL>')).toEqual([]);
    expect(await search('notes', 'CREDIT_CARD')).toEqual([]);
    expect(await search('notes', '5555 5555 5555 4444')).toEqual([]);
    // "EMAIL" and "phone" are ordinary words in the third record, and only there.
    expect(await search('notes', 'EMAIL')).toEqual([{ key: 'words', score: 1 }]);
    expect(await search('notes', 'phone')).toEqual([{ key: 'words', score: 1 }]);
  });

  it('plain words still match, and a query keeps its words when its PII is dropped', async () => {
    expect(await search('notes', 'invoice')).toEqual([{ key: 'alice', score: 1 }]);
    expect(await search('notes', 'refund')).toEqual([{ key: 'card', score: 1 }]);
    // The email in the query is not a word to look for: "invoice" alone decides.
    expect(await search('notes', 'invoice bob@other.org')).toEqual([{ key: 'alice', score: 1 }]);
  });

  it('mode hash: the same address finds its record exactly, another address or EMAIL nothing', async () => {
    expect(await search('hashed', 'alice@example.com')).toEqual([{ key: 'alice', score: 1 }]);
    expect(await search('hashed', 'ALICE@example.com')).toEqual([{ key: 'alice', score: 1 }]);
    expect(await search('hashed', 'bob@other.org')).toEqual([{ key: 'bob', score: 1 }]);
    expect(await search('hashed', 'carol@example.com')).toEqual([]);
    expect(await search('hashed', 'EMAIL')).toEqual([]);
  });

  it('mode mask: another card with the same last four digits finds nothing', async () => {
    expect((await api.get('/v1/memory/masked/card').expect(200)).body.value).toBe('card **** **** **** 4242');
    expect(await search('masked', '4000 0000 0002 4242')).toEqual([]);
    expect(await search('masked', 'card')).toEqual([{ key: 'card', score: 1 }]);
  });
});
