import {
  createBackendModule,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { startTestBackend } from '@backstage/backend-test-utils';
import {
  ModelOpsImageBuilder,
  ModelOpsImageBuildersExtensionPoint,
  ModelOpsMetricsSource,
  ModelOpsMetricsSourcesExtensionPoint,
  modelOpsImageBuildersExtensionPoint,
  modelOpsMetricsSourcesExtensionPoint,
} from './extensions';

function fakeBuilder(type: string): ModelOpsImageBuilder {
  return {
    type,
    trigger: async () => ({ externalRef: `${type}-1` }),
    status: async () => ({ phase: 'succeeded' }),
    logs: async () => ({ text: `${type} logs`, complete: true }),
    cancel: async () => ({ cancelled: false }),
  };
}

function fakeSource(type: string): ModelOpsMetricsSource {
  return {
    type,
    instant: async () => [{ metric: {}, value: 1 }],
    range: async () => [{ metric: {}, points: [{ t: 0, v: 1 }] }],
  };
}

type BuilderInput = Parameters<
  ModelOpsImageBuildersExtensionPoint['addImageBuilder']
>[0];
type SourceInput = Parameters<
  ModelOpsMetricsSourcesExtensionPoint['addMetricsSource']
>[0];

/**
 * A stand-in for the modelops backend: it owns both extension points and,
 * at init, resolves what modules added against its built-in defaults, the
 * way the documented contract says (objects as is, factories get the defaults).
 */
function createTestModelOpsPlugin() {
  const defaultBuilders = new Map([['buildkit', fakeBuilder('buildkit')]]);
  const defaultSources = new Map([['prometheus', fakeSource('prometheus')]]);
  const resolved = {
    builders: new Map<string, ModelOpsImageBuilder>(),
    sources: new Map<string, ModelOpsMetricsSource>(),
  };

  const plugin = createBackendPlugin({
    pluginId: 'modelops',
    register(env) {
      const builders: BuilderInput[] = [];
      const sources: SourceInput[] = [];
      env.registerExtensionPoint(modelOpsImageBuildersExtensionPoint, {
        addImageBuilder: builder => {
          builders.push(builder);
        },
      });
      env.registerExtensionPoint(modelOpsMetricsSourcesExtensionPoint, {
        addMetricsSource: source => {
          sources.push(source);
        },
      });
      env.registerInit({
        deps: {},
        async init() {
          for (const b of builders) {
            const builder = typeof b === 'function' ? b(defaultBuilders) : b;
            resolved.builders.set(builder.type, builder);
          }
          for (const s of sources) {
            const source = typeof s === 'function' ? s(defaultSources) : s;
            resolved.sources.set(source.type, source);
          }
        },
      });
    },
  });

  return { plugin, resolved };
}

describe('ModelOps extension points', () => {
  it('have stable ids that modules depend on', () => {
    expect(modelOpsImageBuildersExtensionPoint.id).toBe(
      'modelops.image-builders',
    );
    expect(modelOpsMetricsSourcesExtensionPoint.id).toBe(
      'modelops.metrics-sources',
    );
  });

  it('let a module add providers as objects and as factories over the defaults', async () => {
    const { plugin, resolved } = createTestModelOpsPlugin();
    const seenDefaults: string[][] = [];

    const providersModule = createBackendModule({
      pluginId: 'modelops',
      moduleId: 'test-providers',
      register(env) {
        env.registerInit({
          deps: {
            builders: modelOpsImageBuildersExtensionPoint,
            sources: modelOpsMetricsSourcesExtensionPoint,
          },
          async init({ builders, sources }) {
            // Object form.
            builders.addImageBuilder(fakeBuilder('github-actions'));
            sources.addMetricsSource(fakeSource('datadog'));
            // Factory form: wrap a default instead of replacing it.
            builders.addImageBuilder(defaults => {
              seenDefaults.push([...defaults.keys()]);
              const buildkit = defaults.get('buildkit')!;
              return {
                ...buildkit,
                type: 'buildkit-audited',
                logs: async options => {
                  const page = await buildkit.logs(options);
                  return { ...page, text: `[audited] ${page.text}` };
                },
              };
            });
            sources.addMetricsSource(defaults => {
              seenDefaults.push([...defaults.keys()]);
              return { ...defaults.get('prometheus')!, type: 'thanos' };
            });
          },
        });
      },
    });

    await startTestBackend({ features: [plugin, providersModule] });

    expect([...resolved.builders.keys()].sort()).toEqual([
      'buildkit-audited',
      'github-actions',
    ]);
    expect([...resolved.sources.keys()].sort()).toEqual(['datadog', 'thanos']);
    expect(seenDefaults).toEqual([['buildkit'], ['prometheus']]);

    await expect(
      resolved.builders
        .get('buildkit-audited')!
        .logs({ externalRef: 'x', limitBytes: 100 }),
    ).resolves.toEqual({ text: '[audited] buildkit logs', complete: true });
    await expect(
      resolved.builders
        .get('github-actions')!
        .trigger({} as Parameters<ModelOpsImageBuilder['trigger']>[0]),
    ).resolves.toEqual({ externalRef: 'github-actions-1' });
    await expect(
      resolved.sources.get('thanos')!.range('up', 0, 60, 15),
    ).resolves.toEqual([{ metric: {}, points: [{ t: 0, v: 1 }] }]);
  });

  it('are only available to modules of the modelops plugin', async () => {
    const { plugin } = createTestModelOpsPlugin();
    const foreignModule = createBackendModule({
      pluginId: 'catalog',
      moduleId: 'wrong-plugin',
      register(env) {
        env.registerInit({
          deps: { builders: modelOpsImageBuildersExtensionPoint },
          async init() {},
        });
      },
    });

    await expect(
      startTestBackend({ features: [plugin, foreignModule] }),
    ).rejects.toThrow(
      /extension point 'modelops\.image-builders' for plugin 'modelops'/,
    );
  });
});
