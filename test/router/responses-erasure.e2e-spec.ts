import request from 'supertest';
import { DataSource } from 'typeorm';
import { ApiKeyService, type Caller, operatorCaller, TenantService } from '@app/auth';
import { SERVICES_LABEL } from '@app/testing';
import { useRouterAndGateway } from '../router-and-gateway';

/**
 * Stored responses live in the router but belong to the tenant's data like its memory: one tenant
 * erasure on the memory gateway (DELETE /v1/admin/tenant-data) destroys the data key both use and
 * deletes the router's rows, on the one database the two services share.
 */
const ACTOR: Caller = {
  ...operatorCaller('e2e'),
  scopes: ['platform:admin', 'admin', 'llm', 'memory:read', 'memory:write'],
};

describe(`tenant erasure covers stored responses (${SERVICES_LABEL})`, () => {
  const s = useRouterAndGateway();

  async function tenantKey(): Promise<{ tenantId: string; key: string }> {
    const tenant = await s.router.app
      .get(TenantService)
      .createTenant({ name: `erase-${Date.now()}-${Math.random()}`, actor: ACTOR });
    const created = await s.router.app.get(ApiKeyService).createKey({
      tenantId: tenant.id,
      name: 'all',
      scopes: ['llm', 'admin', 'memory:write', 'memory:read'],
      actor: ACTOR,
    });
    return { tenantId: tenant.id, key: created.key };
  }

  const create = (key: string, input: string) =>
    request(s.router.url)
      .post('/v1/responses')
      .set('authorization', `Bearer ${key}`)
      .send({ model: 'mock-1', input });
  const retrieve = (key: string, id: string) =>
    request(s.router.url).get(`/v1/responses/${id}`).set('authorization', `Bearer ${key}`);

  it("one erasure shreds the tenant's memory and its stored responses; another tenant keeps its own", async () => {
    const erased = await tenantKey();
    const kept = await tenantKey();
    // Memory first: the gateway creates the tenant's data key, the router then encrypts with the same one.
    await request(s.gateway.url)
      .put('/v1/memory/notes/a')
      .set('authorization', `Bearer ${erased.key}`)
      .send({ value: 'remember me' })
      .expect(201);
    const mine = (await create(erased.key, 'first turn').expect(200)).body.id as string;
    const theirs = (await create(kept.key, 'their turn').expect(200)).body.id as string;
    await retrieve(erased.key, mine).expect(200);

    const erasure = await request(s.gateway.url)
      .delete('/v1/admin/tenant-data')
      .set('authorization', `Bearer ${erased.key}`)
      .expect(200);
    expect(erasure.body).toEqual({ deleted: 1, data_keys_destroyed: 1 });

    await retrieve(erased.key, mine).expect(404);
    const continued = await request(s.router.url)
      .post('/v1/responses')
      .set('authorization', `Bearer ${erased.key}`)
      .send({ model: 'mock-1', input: 'and then?', previous_response_id: mine })
      .expect(404);
    expect(continued.body.error.code).toBe('previous_response_not_found');
    const ds = s.router.app.get(DataSource);
    const p = ds.options.type === 'postgres' ? '$1' : '?';
    expect(
      await ds.query(`SELECT id FROM stored_responses WHERE tenant_id = ${p}`, [erased.tenantId]),
    ).toEqual([]);
    await retrieve(kept.key, theirs).expect(200);
  });
});
