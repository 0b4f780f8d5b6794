import { modelAllowed } from './model-access';

describe('model allow-list', () => {
  it('allows everything when no list is set', () => {
    expect(modelAllowed(['gpt-4o'], [undefined, undefined])).toBe(true);
  });
  it('needs the name (or its provider-qualified twin) in every list that is set', () => {
    expect(modelAllowed(['gpt-4o-mini', 'openai/gpt-4o-mini'], [['gpt-4o-mini'], undefined])).toBe(true);
    expect(modelAllowed(['gpt-4o-mini', 'openai/gpt-4o-mini'], [['openai/gpt-4o-mini'], undefined])).toBe(
      true,
    );
    expect(modelAllowed(['gpt-4o', 'openai/gpt-4o'], [['gpt-4o-mini'], undefined])).toBe(false);
    expect(modelAllowed(['gpt-4o-mini'], [['gpt-4o-mini'], ['cheap']])).toBe(false);
    expect(modelAllowed(['auto'], [['auto', 'fast']])).toBe(true);
  });
  it('supports prefix entries and treats an empty list as nothing allowed', () => {
    expect(modelAllowed(['claude-sonnet-4-5', 'anthropic/claude-sonnet-4-5'], [['anthropic/*']])).toBe(true);
    expect(modelAllowed(['gpt-4o'], [['gpt-4o*']])).toBe(true);
    expect(modelAllowed(['gpt-4o'], [[]])).toBe(false);
  });
});
