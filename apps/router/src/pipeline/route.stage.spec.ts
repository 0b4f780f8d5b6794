import { AtpError } from '@app/common';
import type { EmbeddingRequest } from '@app/providers';
import type { CatalogModel, ModelKind } from '../routing/catalog';
import type { RoutingService } from '../routing/routing.service';
import { catalogModel, rejection, routePlan } from './pipeline.fakes';
import { RouteStage } from './route.stage';

const small = catalogModel({
  id: 'text-embedding-3-small',
  upstream: 'text-embedding-3-small',
  kind: 'embedding',
  contextWindow: 8,
});
const ada = catalogModel({ id: 'ada', upstream: 'text-embedding-ada-002', kind: 'embedding' });

/** A routing service that plans `attempts` for any model and records what it was asked. */
function setup(attempts: CatalogModel[]) {
  const asked: [string, ModelKind][] = [];
  const routing = {
    plan: async (model: string, kind: ModelKind) => {
      asked.push([model, kind]);
      return routePlan(attempts, model);
    },
  } as unknown as RoutingService;
  return { stage: new RouteStage(routing), asked };
}

/** A refusal's status, param and message. */
async function refusal(promise: Promise<unknown>) {
  const err = await rejection(promise);
  return [err.status, err.param, err.message];
}

describe('RouteStage', () => {
  it('chat: the plan routing makes for a chat model, as it is', async () => {
    const { stage, asked } = setup([catalogModel({ id: 'a' }), catalogModel({ id: 'b' })]);
    const plan = await stage.chat('fast');
    expect(plan.attempts.map((m) => m.id)).toEqual(['a', 'b']);
    expect(asked).toEqual([['fast', 'chat']]);
  });

  it("a routing refusal (unknown model) is the stage's refusal", async () => {
    const routing = {
      plan: async () => {
        throw AtpError.notFound('model_not_found', 'The model "nope" does not exist');
      },
    } as unknown as RoutingService;
    await expect(new RouteStage(routing).chat('nope')).rejects.toMatchObject({ status: 404 });
  });

  it('embeddings: planned as embedding models, passed when the first candidate takes the input', async () => {
    const { stage, asked } = setup([small]);
    const body: EmbeddingRequest = { model: 'emb', input: ['short', 'text'] };
    const plan = await stage.embeddings(body);
    expect([plan.attempts, asked]).toEqual([[small], [['emb', 'embedding']]]);
  });

  it('embeddings: an input longer than the first candidate takes, or an empty one, is a 400 on input', async () => {
    const { stage } = setup([small]);
    expect(await refusal(stage.embeddings({ model: 'emb', input: ['ok', 'x'.repeat(40)] }))).toEqual([
      400,
      'input',
      "'input[1]' is about 10 tokens; text-embedding-3-small takes at most 8 tokens per input",
    ]);
    expect(await refusal(stage.embeddings({ model: 'emb', input: '' }))).toEqual([
      400,
      'input',
      "'input' is an empty string",
    ]);
  });

  it('embeddings: dimensions must suit every candidate, not only the first', async () => {
    const { stage } = setup([small, ada]);
    expect(await refusal(stage.embeddings({ model: 'emb', input: 'hi', dimensions: 256 }))).toEqual([
      400,
      'dimensions',
      "'dimensions' is not supported by ada: its vectors have one fixed size",
    ]);
    const { stage: one } = setup([small]);
    await expect(one.embeddings({ model: 'emb', input: 'hi', dimensions: 256 })).resolves.toMatchObject({
      attempts: [small],
    });
  });
});
