import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { ScmIntegrations } from '@backstage/integration';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { modelOpsPermissions } from '@modelops/plugin-modelops-common';
import {
  ModelOpsImageBuilder,
  ModelOpsMetricsSource,
  modelOpsImageBuildersExtensionPoint,
  modelOpsMetricsSourcesExtensionPoint,
} from '@modelops/plugin-modelops-node';
import { BuildkitBuilder } from './builds/buildkit/BuildkitBuilder';
import { BuildService } from './builds/BuildService';
import { BuildStore } from './builds/BuildStore';
import { readModelOpsConfig } from './config';
import { DatabaseDeploymentStore } from './database/DatabaseDeploymentStore';
import { DatabaseDriftReferenceStore } from './database/DriftReferenceStore';
import { connectDatabase } from './database/migrations';
import { ClusterClients } from './kubernetes/ClusterClients';
import { AuthorizedBuildService } from './service/AuthorizedBuildService';
import { AuthorizedDeploymentService } from './service/AuthorizedDeploymentService';
import { DeploymentService } from './service/DeploymentService';
import { loadModelService } from './service/entities';
import { EnvironmentService } from './service/EnvironmentService';
import { AnalysisService } from './analysis/AnalysisService';
import { AnalysisStore } from './database/AnalysisStore';
import { ProviderRegistry } from './service/ProviderRegistry';
import { createRouter } from './service/router';
import { AuthorizedMonitoringService } from './service/AuthorizedMonitoringService';
import { HealthService } from './metrics/HealthService';
import { SeriesService } from './metrics/SeriesService';
import { prometheusClientFor, selectMetricsSource } from './metrics/config';

/**
 * The ModelOps backend plugin: builds, deployments and metrics of model
 * services, mounted at `/api/modelops`.
 * @public
 */
export const modelOpsPlugin = createBackendPlugin({
  pluginId: 'modelops',
  register(env) {
    const builders = new ProviderRegistry<ModelOpsImageBuilder>(
      'image builder',
    );
    const metricsSources = new ProviderRegistry<ModelOpsMetricsSource>(
      'metrics source',
    );
    env.registerExtensionPoint(modelOpsImageBuildersExtensionPoint, {
      addImageBuilder: builder => builders.add(builder),
    });
    env.registerExtensionPoint(modelOpsMetricsSourcesExtensionPoint, {
      addMetricsSource: source => metricsSources.add(source),
    });

    env.registerInit({
      deps: {
        rootConfig: coreServices.rootConfig,
        logger: coreServices.logger,
        database: coreServices.database,
        httpRouter: coreServices.httpRouter,
        httpAuth: coreServices.httpAuth,
        auth: coreServices.auth,
        permissionsRegistry: coreServices.permissionsRegistry,
        permissions: coreServices.permissions,
        auditor: coreServices.auditor,
        urlReader: coreServices.urlReader,
        lifecycle: coreServices.lifecycle,
        scheduler: coreServices.scheduler,
        catalog: catalogServiceRef,
      },
      async init({
        rootConfig,
        logger,
        database,
        httpRouter,
        httpAuth,
        auth,
        permissionsRegistry,
        permissions,
        auditor,
        urlReader,
        lifecycle,
        scheduler,
        catalog,
      }) {
        const config = readModelOpsConfig(rootConfig);
        permissionsRegistry.addPermissions(modelOpsPermissions);
        const db = await connectDatabase(database);
        const store = new DatabaseDeploymentStore(db);
        const interrupted = await store.failInterrupted();
        if (interrupted > 0) {
          logger.warn(
            `Marked ${interrupted} deploy(s) left pending by a stopped backend as failed`,
          );
        }

        const clusters = ClusterClients.fromConfig(rootConfig);
        lifecycle.addShutdownHook(() => clusters.close());
        const buildkit = new BuildkitBuilder({ config, clusters });
        const resolvedBuilders = builders.resolve(
          new Map([[buildkit.type, buildkit]]),
        );
        const prometheus = prometheusClientFor(config.metrics);
        const resolvedSources = metricsSources.resolve(
          new Map(prometheus ? [[prometheus.type, prometheus]] : []),
        );
        const metricsSource = selectMetricsSource(
          config.metrics,
          resolvedSources,
        );
        const environments = new EnvironmentService({
          config,
          clusters: clusters.known(),
        });
        const buildStore = new BuildStore(db);
        const deployments = new DeploymentService({
          config,
          environments,
          clusters,
          store,
          builds: buildStore,
          urlReader,
          integrations: ScmIntegrations.fromConfig(rootConfig),
          logger,
        });
        logger.info(
          `ModelOps environments: ${
            environments.environmentNames().join(', ') || 'none configured'
          }; image builders: ${
            [...resolvedBuilders.keys()].join(', ') || 'none'
          }; metrics source: ${
            metricsSource?.type ?? 'none configured'
          } (available: ${[...resolvedSources.keys()].join(', ') || 'none'})`,
        );

        const builds = new BuildService({
          config,
          builders: resolvedBuilders,
          store: buildStore,
          environments,
          deployments,
          logger,
          loadTarget: async entityRef =>
            loadModelService({
              catalog,
              entityRef,
              credentials: await auth.getOwnServiceCredentials(),
            }),
        });
        // Builds are followed by one replica at a time: a status change is
        // recorded, and a build-then-deploy deployed, once.
        await scheduler.scheduleTask({
          id: 'modelops-reconcile-builds',
          scope: 'global',
          frequency: { seconds: 10 },
          timeout: { minutes: 5 },
          fn: () => builds.reconcileAll(),
        });

        const references = new DatabaseDriftReferenceStore(db);
        const analysisStore = new AnalysisStore(db);
        const health = new HealthService({
          config,
          environments,
          deployments,
          clusters,
          store,
          references,
          source: metricsSource,
          logger,
        });
        lifecycle.addShutdownHook(() => health.stop());

        const analyses = new AnalysisService({
          config,
          store: analysisStore,
          deploymentStore: store,
          deployments,
          clusters,
          signals: health,
          loadTarget: async entityRef =>
            loadModelService({
              catalog,
              entityRef,
              credentials: await auth.getOwnServiceCredentials(),
            }),
          logger,
        });
        deployments.useAnalyses(analyses);
        // One replica evaluates at a time: an analysis rolls back once.
        await scheduler.scheduleTask({
          id: 'modelops-run-analyses',
          scope: 'global',
          frequency: { seconds: 5 },
          timeout: { minutes: 5 },
          fn: () => analyses.runDue(),
        });

        httpRouter.use(
          await createRouter({
            httpAuth,
            deployments: new AuthorizedDeploymentService({
              catalog,
              permissions,
              auth,
              auditor,
              environments,
              deployments,
              store,
              analyses,
            }),
            builds: new AuthorizedBuildService({
              catalog,
              permissions,
              auth,
              auditor,
              builds,
            }),
            monitoring: new AuthorizedMonitoringService({
              catalog,
              permissions,
              auth,
              entityCacheSeconds: config.metrics.entityCacheSeconds,
              health,
              series: new SeriesService({
                config,
                environments,
                store,
                references,
                source: metricsSource,
                analyses: analysisStore,
              }),
            }),
          }),
        );
      },
    });
  },
});
