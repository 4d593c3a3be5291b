import { ModelOpsClient } from '@modelops/plugin-modelops-common';
import { mockApis } from '@backstage/test-utils';
import { modelOpsApiRef } from './api';
import { modelOpsPlugin } from './plugin';

describe('modelOpsPlugin (legacy frontend system)', () => {
  it('has the id modelops', () => {
    expect(modelOpsPlugin.getId()).toBe('modelops');
  });

  it('registers the factory of the ModelOps API', () => {
    const factories = [...modelOpsPlugin.getApis()];
    expect(factories).toHaveLength(1);
    const [factory] = factories;
    expect(factory.api).toBe(modelOpsApiRef);
    expect(Object.keys(factory.deps).sort()).toEqual([
      'discoveryApi',
      'fetchApi',
    ]);
    expect(
      factory.factory({
        discoveryApi: mockApis.discovery(),
        fetchApi: { fetch: jest.fn() },
      }),
    ).toBeInstanceOf(ModelOpsClient);
  });
});
