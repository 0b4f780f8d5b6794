import OpenAI from 'openai';
import { z } from 'zod';
import { fakeVector, type FakeVendor } from '@app/providers/testing';
import { bootApp, type BootedApp, createTestEnv, type TestEnv } from '@app/testing';
import { AppModule } from '../../src/app.module';
import { type FakeUpstream, startFakeUpstream, tenantWithKey, upstreamEnv } from '../governance-helpers';

/**
 * The client-compatibility suites (issue 14) drive the real router with clients nobody on this
 * team wrote, against two routers booted once per file: one in front of the fake vendor
 * upstreams (OpenAI, Anthropic and Gemini wire formats, answering as a schema-following model
 * would), one on the embedded `mock` provider (no vendor key).
 */
export interface CompatTarget {
  /** The vendor wire format behind the router, or `mock`. */
  name: FakeVendor | 'mock';
  chatModel: string;
  /** Null: the vendor offers no embeddings (Anthropic). */
  embeddingModel: string | null;
}

export const TARGETS: CompatTarget[] = [
  { name: 'openai', chatModel: 'gpt-4o-mini', embeddingModel: 'text-embedding-3-small' },
  { name: 'anthropic', chatModel: 'claude-sonnet-4-5', embeddingModel: null },
  { name: 'google', chatModel: 'gemini-2.5-flash', embeddingModel: 'gemini-embedding-001' },
  { name: 'mock', chatModel: 'mock-1', embeddingModel: 'mock-embedding' },
];

/** Usage every fake upstream reports, so clients' usage can be compared to exact numbers. */
export const FAKE_USAGE = { prompt: 21, completion: 7 };
/** The fakes' reply text when no tool or schema decides the answer. */
export const FAKE_TEXT = 'Hello from the fake upstream.';
/** Embedding size of the fakes (the vendor's own default is larger; 64 keeps the payloads small). */
export const FAKE_DIMS = 64;

/** The arguments of the `get_weather` tool both `openai` SDK suites declare. */
export const Weather = z.object({
  city: z.string(),
  unit: z.enum(['celsius', 'fahrenheit']),
  days: z.number().int().min(1).max(7),
});

/** Is a fake vendor behind the target (exact text and usage known), rather than the embedded mock? */
export const isFake = (t: CompatTarget) => t.name !== 'mock';

export interface CompatRouter {
  url: string;
  /** An `llm` API key of a tenant without limits. */
  key: string;
  booted: BootedApp;
}

export interface CompatEnv {
  upstream: FakeUpstream;
  fake: CompatRouter;
  mock: CompatRouter;
  routerFor(target: CompatTarget): CompatRouter;
  /** An `llm` key whose tenant may make one request a minute (for the 429 cases). */
  limitedKey(target: CompatTarget): Promise<string>;
  close(): Promise<void>;
}

/** What the fakes answer for an embedding input, as float32 (what base64 carries). */
export function expectedFakeVector(text: string, dims = FAKE_DIMS): number[] {
  return fakeVector(text, dims).map((v) => Math.fround(v));
}

export async function startCompatEnv(): Promise<CompatEnv> {
  const behaviour = { followSchemas: true, usage: FAKE_USAGE, embeddingDims: FAKE_DIMS };
  const upstream = await startFakeUpstream({ behaviour });
  const envs: TestEnv[] = [];
  const boot = async (env: Record<string, string>): Promise<CompatRouter> => {
    const testEnv = await createTestEnv(env);
    envs.push(testEnv);
    const booted = await bootApp('router', AppModule, testEnv.env);
    return { url: booted.url, key: (await tenantWithKey(booted)).key, booted };
  };
  const fake = await boot(upstreamEnv(upstream));
  const mock = await boot({});
  const routerFor = (t: CompatTarget) => (t.name === 'mock' ? mock : fake);
  return {
    upstream,
    fake,
    mock,
    routerFor,
    limitedKey: async (t) => (await tenantWithKey(routerFor(t).booted, { rpm: 1 })).key,
    async close() {
      await fake?.booted.close();
      await mock?.booted.close();
      await upstream.close();
      for (const e of envs) await e.cleanup();
    },
  };
}

/**
 * The suite's compat env: booted once before its tests, the fake upstream reset before each,
 * closed after. Call at the top of a describe; read the env through the returned getter.
 */
export function useCompatEnv(): () => CompatEnv {
  let env: CompatEnv | undefined;
  beforeAll(async () => {
    env = await startCompatEnv();
  }, 60_000);
  beforeEach(() => env!.upstream.reset());
  afterAll(async () => {
    await env?.close();
  });
  return () => env!;
}

/** The official `openai` SDK on the router in front of `target` (its tenant's key unless given). */
export function openaiClient(
  env: CompatEnv,
  target: CompatTarget,
  apiKey = env.routerFor(target).key,
): OpenAI {
  const router = env.routerFor(target);
  return new OpenAI({ apiKey, baseURL: `${router.url}/v1`, maxRetries: 0, timeout: 15_000 });
}

/** Float values as a JSON request with `encoding_format: "float"` gets them (the reference for the mock). */
export async function floatEmbeddings(
  router: CompatRouter,
  model: string,
  input: string[],
): Promise<number[][]> {
  const res = await fetch(`${router.url}/v1/embeddings`, {
    method: 'POST',
    headers: { authorization: `Bearer ${router.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, input, encoding_format: 'float' }),
  });
  if (res.status !== 200) throw new Error(`embeddings ${res.status}: ${await res.text()}`);
  const body = (await res.json()) as { data: { embedding: number[] }[] };
  return body.data.map((d) => d.embedding);
}

/** The reference vectors for a target: the fakes' deterministic vectors, or the mock's floats. */
export async function referenceVectors(env: CompatEnv, target: CompatTarget, input: string[]) {
  if (target.name !== 'mock') return input.map((t) => expectedFakeVector(t));
  const floats = await floatEmbeddings(env.mock, target.embeddingModel as string, input);
  return floats.map((v) => v.map((x) => Math.fround(x)));
}
