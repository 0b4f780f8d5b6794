import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { LimitsDto, limitsFromDto, limitsToDto } from './limits.dto';

describe('limits DTO', () => {
  it('maps the wire names to the stored shape and back (unset → null)', () => {
    const dto = {
      rpm: 60,
      monthly_budget_usd: 9.5,
      allowed_models: ['fast'],
      pii_mode: 'block' as const,
      tpm: null,
    };
    expect(limitsFromDto(dto)).toEqual({
      rpm: 60,
      tpm: undefined,
      concurrency: undefined,
      monthlyBudgetUsd: 9.5,
      allowedModels: ['fast'],
      piiMode: 'block',
    });
    expect(limitsToDto({ rpm: 60, piiMode: 'off' })).toEqual({
      rpm: 60,
      tpm: null,
      concurrency: null,
      monthly_budget_usd: null,
      allowed_models: null,
      pii_mode: 'off',
    });
  });

  it.each<[Record<string, unknown>, string | null]>([
    [{}, null],
    [{ rpm: 0, tpm: 1, concurrency: 2, monthly_budget_usd: 0.01, allowed_models: [], pii_mode: 'off' }, null],
    [{ rpm: null, pii_mode: null }, null],
    [{ rpm: 1.5 }, 'rpm'],
    [{ concurrency: -1 }, 'concurrency'],
    [{ monthly_budget_usd: 'ten' }, 'monthly_budget_usd'],
    [{ allowed_models: [1] }, 'allowed_models'],
    [{ pii_mode: 'REDACT' }, 'pii_mode'],
  ])('%j → %s', (input, param) => {
    const errors = validateSync(plainToInstance(LimitsDto, input));
    expect(errors[0]?.property ?? null).toBe(param);
  });
});
