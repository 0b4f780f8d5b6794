import { field, h } from '../dom';

export interface LimitsDto {
  rpm: number | null;
  tpm: number | null;
  concurrency: number | null;
  monthly_budget_usd: number | null;
  allowed_models: string[] | null;
  pii_mode?: string | null;
}

/**
 * The limits fields (tenant or key): empty means "not set, does not apply". Checks what the
 * browser can (whole non-negative numbers); the API's own message covers the rest.
 */
export function limitsForm(initial: Partial<LimitsDto> | null, opts: { pii: boolean }) {
  const num = (name: keyof LimitsDto, label: string, hint: string, step = '1') => {
    const v = initial?.[name];
    const input = h('input', {
      type: 'number',
      min: '0',
      step,
      name,
      inputmode: step === '1' ? 'numeric' : 'decimal',
      value: typeof v === 'number' ? String(v) : '',
    });
    return { input, el: field(label, input, hint) };
  };
  const rpm = num('rpm', 'Requests per minute', 'Empty: no limit');
  const tpm = num('tpm', 'Tokens per minute', 'Prompt + completion tokens; empty: no limit');
  const conc = num('concurrency', 'Concurrent requests', 'Empty: no limit');
  const budget = num(
    'monthly_budget_usd',
    'Monthly budget (USD)',
    'Per calendar month (UTC); empty: no budget',
    '0.01',
  );
  const models = h('input', {
    type: 'text',
    name: 'allowed_models',
    value: (initial?.allowed_models ?? []).join(', '),
    spellcheck: 'false',
  });
  const pii = h(
    'select',
    { name: 'pii_mode' },
    h('option', { value: '' }, 'Not set (default)'),
    ['off', 'redact', 'block'].map((m) => h('option', { value: m, selected: initial?.pii_mode === m }, m)),
  );
  const el = h(
    'div',
    { class: 'form-grid' },
    rpm.el,
    tpm.el,
    conc.el,
    budget.el,
    field('Allowed models', models, 'Comma-separated model ids or route aliases; empty: every model'),
    opts.pii ? field('Prompt PII mode', pii, 'off, redact or block') : null,
  );

  /** The request body, or a message naming the first field a person must fix. */
  const read = (): { body: Partial<LimitsDto> } | { error: string; input: HTMLElement } => {
    const body: Partial<LimitsDto> = {};
    for (const [key, f, integer] of [
      ['rpm', rpm, true],
      ['tpm', tpm, true],
      ['concurrency', conc, true],
      ['monthly_budget_usd', budget, false],
    ] as const) {
      const raw = f.input.value.trim();
      if (raw === '') continue;
      const n = Number(raw);
      if (!Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n)))
        return {
          error: `${f.el.querySelector('label')?.textContent}: enter ${integer ? 'a whole number' : 'an amount'} of 0 or more, or leave it empty.`,
          input: f.input,
        };
      body[key] = n;
    }
    const list = models.value
      .split(',')
      .map((m) => m.trim())
      .filter(Boolean);
    if (list.length) body.allowed_models = list;
    if (opts.pii && pii.value) body.pii_mode = pii.value;
    return { body };
  };
  return { el, read };
}
