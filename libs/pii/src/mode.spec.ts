import { resolvePiiMode } from './mode';

describe('resolvePiiMode', () => {
  it('defaults to redact when detection is enabled', () => {
    expect(resolvePiiMode({ enabled: true })).toBe('redact');
  });
  it('lets the namespace override the tenant, and the tenant override the default', () => {
    expect(resolvePiiMode({ enabled: true, tenantMode: 'block' })).toBe('block');
    expect(resolvePiiMode({ enabled: true, tenantMode: 'block', namespaceMode: 'hash' })).toBe('hash');
    expect(resolvePiiMode({ enabled: true, tenantMode: null, namespaceMode: null })).toBe('redact');
  });
  it('is off everywhere when PII_DETECTION_ENABLED is false', () => {
    expect(resolvePiiMode({ enabled: false, tenantMode: 'block' })).toBe('off');
  });
  it('rejects an unknown mode', () => {
    expect(() => resolvePiiMode({ enabled: true, tenantMode: 'scramble' })).toThrow(
      expect.objectContaining({ code: 'PII_UNKNOWN_MODE' }),
    );
  });
});
