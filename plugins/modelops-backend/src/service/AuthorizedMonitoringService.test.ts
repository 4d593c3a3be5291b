/*
 * How a monitoring read of one service is authorized: the entity read from the
 * catalog with the plugin's own credentials and kept a few seconds, the
 * caller's right to see it and to read its metrics asked at every read. The
 * catalog, the permission framework and the series are test doubles: what is
 * checked is which of them is asked, how often and with what.
 */
import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { HealthService } from '../metrics/HealthService';
import { SeriesService } from '../metrics/SeriesService';
import { AuthorizedMonitoringService } from './AuthorizedMonitoringService';

const fraud: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'fraud-detector',
    namespace: 'default',
    annotations: { 'backstage.io/kubernetes-id': 'fraud-detector' },
  },
  spec: { type: 'model-service', owner: 'group:default/risk' },
};
const website: Entity = {
  ...fraud,
  metadata: { name: 'website', namespace: 'default' },
  spec: { type: 'website', owner: 'group:default/web' },
};
const FRAUD = 'component:default/fraud-detector';

function setup(
  options: {
    /** Decision per permission name; ALLOW when absent. */
    decide?: Record<string, AuthorizeResult.ALLOW | AuthorizeResult.DENY>;
    entityCacheSeconds?: number;
  } = {},
) {
  const catalog = catalogServiceMock({ entities: [fraud, website] });
  const getEntitiesByRefs = jest.spyOn(catalog, 'getEntitiesByRefs');
  const authorize = jest.fn(async (requests: any[]) =>
    requests.map(r => ({
      result: options.decide?.[r.permission.name] ?? AuthorizeResult.ALLOW,
    })),
  );
  const series = jest.fn(async ({ target }: any) => ({ ref: target.ref }));
  const health = jest.fn(async ({ target }: any) => ({ ref: target.ref }));
  const service = new AuthorizedMonitoringService({
    catalog,
    permissions: mockServices.permissions.mock({ authorize }),
    auth: mockServices.auth(),
    entityCacheSeconds: options.entityCacheSeconds ?? 10,
    series: { series } as unknown as SeriesService,
    health: { health } as unknown as HealthService,
  });
  return { service, getEntitiesByRefs, authorize, series, health };
}

const user = mockCredentials.user('user:default/ana');
const read = (service: AuthorizedMonitoringService, entityRef = FRAUD) =>
  service.metrics({ entityRef, environment: 'dev', credentials: user });

describe('AuthorizedMonitoringService', () => {
  it('reads an entity from the catalog once for the reads of a few seconds, with its own credentials', async () => {
    const { service, getEntitiesByRefs, authorize } = setup();
    await expect(read(service)).resolves.toEqual({ ref: FRAUD });
    await expect(
      service.health({ entityRef: FRAUD, credentials: user }),
    ).resolves.toEqual({ ref: FRAUD });
    await read(service);

    expect(getEntitiesByRefs).toHaveBeenCalledTimes(1);
    const [{ entityRefs }, { credentials }] = getEntitiesByRefs.mock
      .calls[0] as any;
    expect(entityRefs).toEqual([FRAUD]);
    expect(credentials.principal.type).toBe('service');
    // The caller is asked about at every read, both questions at once.
    expect(authorize).toHaveBeenCalledTimes(3);
    for (const [requests, opts] of authorize.mock.calls as any[]) {
      expect(
        requests.map((r: any) => [r.permission.name, r.resourceRef]),
      ).toEqual([
        ['catalog.entity.read', FRAUD],
        ['modelops.metrics.read', FRAUD],
      ]);
      expect(opts.credentials).toBe(user);
    }
  });

  it('reads the entity for every request when the cache is off', async () => {
    const { service, getEntitiesByRefs } = setup({ entityCacheSeconds: 0 });
    await read(service);
    await read(service);
    expect(getEntitiesByRefs).toHaveBeenCalledTimes(2);
  });

  it('answers a caller who may not see the entity as if it did not exist, and reads nothing', async () => {
    const { service, series } = setup({
      decide: { 'catalog.entity.read': AuthorizeResult.DENY },
    });
    await expect(read(service)).rejects.toMatchObject({
      name: 'NotFoundError',
      message: `No entity named ${FRAUD} in the catalog`,
    });
    await expect(
      read(service, 'component:default/no-such-service'),
    ).rejects.toMatchObject({ name: 'NotFoundError' });
    expect(series).not.toHaveBeenCalled();
  });

  it('refuses a caller without modelops.metrics.read, and reads nothing', async () => {
    const { service, series, health } = setup({
      decide: { 'modelops.metrics.read': AuthorizeResult.DENY },
    });
    await expect(read(service)).rejects.toMatchObject({
      name: 'NotAllowedError',
      message: expect.stringContaining('modelops.metrics.read'),
    });
    await expect(
      service.health({ entityRef: FRAUD, credentials: user }),
    ).rejects.toMatchObject({ name: 'NotAllowedError' });
    expect(series).not.toHaveBeenCalled();
    expect(health).not.toHaveBeenCalled();
  });

  it('refuses an entity that is not a model service, and a malformed ref', async () => {
    const { service, getEntitiesByRefs } = setup();
    await expect(
      read(service, 'component:default/website'),
    ).rejects.toMatchObject({
      name: 'InputError',
      message: expect.stringContaining('is not a model service'),
    });
    await expect(read(service, 'component:')).rejects.toMatchObject({
      name: 'InputError',
      message: expect.stringContaining('Malformed entity ref'),
    });
    expect(getEntitiesByRefs).toHaveBeenCalledTimes(1);
  });
});
