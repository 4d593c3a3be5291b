/*
 * The deploy engine's steps as integration tests drive them directly:
 * render, one policy pass and apply, against one platform cluster.
 * Test-only code.
 */
import { ClusterClient } from '../../kubernetes/ClusterClient';
import { ClusterClients } from '../../kubernetes/ClusterClients';
import { KubeObject } from '../../kubernetes/types';
import { applyObjects } from '../apply/apply';
import { validateObjects } from '../policy/policy';
import { renderManifests } from '../render/render';
import { kubectl, platformClusters, uniqueId } from './platform';

export const CLUSTER = 'dev';
export const NS = 'models';
export const ENTITY_REF = 'component:default/integration-test';
/**
 * The demo model server's repository in the platform's registry. Pods run on
 * the cluster's real node, so the tags must exist: 0.1.0 and 0.1.1 serve, 0.1.2
 * is slow, 0.1.3 fails a share of requests, 0.1.4 crashes at start, any other
 * tag cannot be pulled (test/platform/demo-images.json).
 */
export const REPO = 'registry.modelops.local/risk/fraud-detector';

/** Options of `EngineHarness.deploy`. */
export interface EngineDeployOptions {
  id: string;
  image?: string;
  revision?: number;
  dryRun?: boolean;
  force?: boolean;
}

/**
 * One cluster client and the ids a suite deployed, deleted by label in
 * `close()`. Call `open()` in beforeAll and `close()` in afterAll.
 */
export class EngineHarness {
  clusters!: ClusterClients;
  client!: ClusterClient;
  private readonly runId: string;
  private readonly ids: string[] = [];

  constructor(prefix = 'it') {
    this.runId = uniqueId(prefix);
  }

  open(): void {
    this.clusters = platformClusters();
    this.client = this.clusters.get(CLUSTER);
  }

  /** A workload id unique to this run, cleaned up by `close()`. */
  newId(suffix: string): string {
    const id = `${this.runId}-${suffix}`;
    this.ids.push(id);
    return id;
  }

  /** render → policy → apply, as a deploy does, without the history. */
  async deploy(objects: KubeObject[], opts: EngineDeployOptions) {
    const rendered = renderManifests(objects, {
      namespace: NS,
      kubernetesId: opts.id,
      image: opts.image,
      revision: opts.revision ?? 1,
      entityRef: ENTITY_REF,
      imageRepository: REPO,
    });
    const resolved = await validateObjects(rendered, {
      client: this.client,
      namespace: NS,
    });
    return applyObjects(this.client, resolved, {
      dryRun: opts.dryRun ?? false,
      force: opts.force ?? false,
    });
  }

  async close(): Promise<void> {
    for (const id of this.ids) {
      await kubectl(CLUSTER, [
        'delete',
        '-n',
        NS,
        'deployments,services,horizontalpodautoscalers,configmaps,inferenceservices,poddisruptionbudgets,serviceaccounts',
        '-l',
        `backstage.io/kubernetes-id=${id}`,
        '--ignore-not-found',
        '--wait=false',
      ]);
    }
    this.clusters?.close();
  }
}
