import { applyPii, maskValue, replacementFor } from './operators';
import { PiiError } from './pii.errors';

const KEY = Buffer.alloc(32, 7);
const OTHER_KEY = Buffer.alloc(32, 9);
const TEXT = 'Mail jane@example.com or call (415) 555-0132; card 4242 4242 4242 4242.';

describe('applyPii', () => {
  it('redact replaces each finding with <TYPE> and reports offsets into the input', () => {
    const r = applyPii(TEXT, 'redact');
    expect(r.text).toBe('Mail <EMAIL> or call <PHONE>; card <CREDIT_CARD>.');
    expect(r.action).toBe('redacted');
    expect(r.blocked).toBe(false);
    expect(r.summary).toEqual([
      { type: 'EMAIL', count: 1 },
      { type: 'PHONE', count: 1 },
      { type: 'CREDIT_CARD', count: 1 },
    ]);
    expect(TEXT.slice(r.entities[0].start, r.entities[0].end)).toBe('jane@example.com');
  });

  it('mask keeps the last four digits of cards and phones, masks the rest fully', () => {
    expect(applyPii(TEXT, 'mask').text).toBe(
      'Mail ******** or call (***) ***-0132; card **** **** **** 4242.',
    );
    expect(applyPii('card 4242424242424242', 'mask').text).toBe('card ************4242');
  });

  it('hash is keyed, stable, type-tagged and blind to formatting', () => {
    const a = applyPii('call 415-555-0132', 'hash', { hmacKey: KEY }).text;
    const b = applyPii('call (415) 555-0132', 'hash', { hmacKey: KEY }).text;
    const c = applyPii('call 415-555-0132', 'hash', { hmacKey: OTHER_KEY }).text;
    expect(a).toMatch(/^call <PHONE:[0-9a-f]{16}>$/);
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    expect(applyPii('x JANE@example.com', 'hash', { hmacKey: KEY }).text).toBe(
      applyPii('x jane@example.com', 'hash', { hmacKey: KEY }).text,
    );
    expect(a).not.toContain('0132');
  });

  it('hash refuses to run without a tenant key of at least 16 bytes', () => {
    expect(() => applyPii(TEXT, 'hash')).toThrow(PiiError);
    expect(() => applyPii(TEXT, 'hash', { hmacKey: Buffer.alloc(8) })).toThrow(
      expect.objectContaining({ code: 'PII_HMAC_KEY_REQUIRED' }),
    );
  });

  it('block leaves the text unchanged and sets blocked only when something was found', () => {
    const r = applyPii(TEXT, 'block');
    expect(r).toMatchObject({ text: TEXT, blocked: true, action: 'blocked' });
    expect(r.entities).toHaveLength(3);
    expect(applyPii('nothing here', 'block')).toMatchObject({ blocked: false, action: 'none', entities: [] });
  });

  it('detect records findings and stores the text untouched', () => {
    expect(applyPii(TEXT, 'detect')).toMatchObject({ text: TEXT, action: 'detected', blocked: false });
  });

  it('off does not scan at all', () => {
    expect(applyPii(TEXT, 'off')).toEqual({
      text: TEXT,
      entities: [],
      action: 'off',
      blocked: false,
      summary: [],
    });
  });

  it('rejects an unknown mode', () => {
    expect(() => applyPii(TEXT, 'shred' as never)).toThrow(
      expect.objectContaining({ code: 'PII_UNKNOWN_MODE' }),
    );
  });

  it('passes detect options through', () => {
    const r = applyPii(TEXT, 'redact', { types: ['EMAIL'], allowList: [] });
    expect(r.text).toBe('Mail <EMAIL> or call (415) 555-0132; card 4242 4242 4242 4242.');
  });
});

describe('maskValue', () => {
  it.each([
    ['CREDIT_CARD', '4242-4242-4242-4242', '****-****-****-4242'],
    ['PHONE', '+44 20 7946 0958', '+** ** **** 0958'],
    ['US_SSN', '536-22-8741', '***-**-8741'],
    ['IBAN', 'GB82 WEST 1234 5698 7654 32', '**** **** **** **** **54 32'],
    ['EMAIL', 'jane@example.com', '********'],
    ['SECRET', 'sk-abc', '********'],
    ['IP_ADDRESS', '10.0.0.1', '********'],
    ['DATE_OF_BIRTH', '1985-03-12', '********'],
  ] as const)('%s %s → %s', (type, value, masked) => expect(maskValue(type, value)).toBe(masked));
});

describe('replacementFor', () => {
  it('truncates the HMAC to 16 hex characters', () => {
    expect(replacementFor('EMAIL', 'a@b.co', 'hash', KEY)).toMatch(/^<EMAIL:[0-9a-f]{16}>$/);
    expect(replacementFor('EMAIL', 'a@b.co', 'redact')).toBe('<EMAIL>');
  });
});
