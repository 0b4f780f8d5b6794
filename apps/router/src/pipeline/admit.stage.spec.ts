import { AtpError } from '@app/common';
import type { AdmissionRequest, AdmissionService } from '../limits/admission.service';
import type { RequestPolicy } from '../policy/request-policy.service';
import { AdmitStage } from './admit.stage';
import { admissionTicket, caller, catalogModel, chatRequest, routePlan } from './pipeline.fakes';

const limits: RequestPolicy = { tenant: { rpm: 60, monthlyBudgetUsd: 5 }, key: null, piiMode: 'off' };
const plan = routePlan([catalogModel({ id: 'a' }), catalogModel({ id: 'b' })]);

/** An admission service that records what it is asked and answers with one ticket. */
function setup() {
  const asked: AdmissionRequest[] = [];
  const ticket = admissionTicket();
  const admission = {
    admit: async (req: AdmissionRequest) => {
      asked.push(req);
      return ticket;
    },
  } as unknown as AdmissionService;
  return { stage: new AdmitStage(admission), asked, ticket };
}

describe('AdmitStage', () => {
  it('chat: every candidate, the estimate and the true bound of the prompt, max tokens and choices', async () => {
    const { stage, asked, ticket } = setup();
    // "hello there": estimated 4 + 11/4 → 7 tokens; bounded by its bytes plus overheads, 16 + 16 + 4 + 11
    const body = chatRequest({ max_tokens: 100, n: 3 });
    await expect(stage.chat(caller, limits, plan, body)).resolves.toBe(ticket);
    expect(asked).toEqual([
      {
        caller,
        tenantLimits: limits.tenant,
        requestId: 'req-1',
        candidates: plan.attempts,
        promptTokens: 7,
        promptTokenBound: 47,
        maxTokens: 100,
        choices: 3,
      },
    ]);
  });

  it('chat: max_completion_tokens wins over max_tokens; one choice and no max by default', async () => {
    const { stage, asked } = setup();
    await stage.chat(caller, limits, plan, chatRequest({ max_tokens: 100, max_completion_tokens: 20 }));
    await stage.chat({ ...caller, requestId: null }, limits, plan, chatRequest());
    expect(asked.map((r) => [r.maxTokens, r.choices, r.requestId])).toEqual([
      [20, 1, 'req-1'],
      [undefined, 1, ''],
    ]);
  });

  it('embeddings: no completion to reserve; the input estimated and bounded by its bytes', async () => {
    const { stage, asked } = setup();
    await stage.embeddings(caller, limits, plan, { model: 'emb', input: ['some text here', 'more'] });
    expect(asked).toEqual([
      {
        caller,
        tenantLimits: limits.tenant,
        requestId: 'req-1',
        candidates: plan.attempts,
        promptTokens: 5,
        promptTokenBound: 20,
        maxTokens: 0,
      },
    ]);
  });

  it("the admission's refusal is the stage's refusal", async () => {
    const refused = new AtpError(429, 'rate_limit_exceeded', 'slow down', {
      headers: { 'retry-after': '3' },
    });
    const admission = { admit: async () => Promise.reject(refused) } as unknown as AdmissionService;
    await expect(new AdmitStage(admission).chat(caller, limits, plan, chatRequest())).rejects.toBe(refused);
  });
});
