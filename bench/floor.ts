/*
 * The floor for a deploy: a warm @kubernetes/client-node process doing what
 * the ModelOps API does against the cluster for one deploy (a server-side
 * dry run of every object, then the server-side apply of every object) with
 * nothing of Backstage around it: no HTTP edge, catalog, permission check,
 * rendering, validation or history.
 */
import {
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  type KubernetesObject,
} from '@kubernetes/client-node';

export interface Floor {
  /** Dry runs of every object, then the applies: one deploy's cluster calls. */
  deploy(objects: KubernetesObject[]): Promise<number>;
  /** Dry runs of every object only: one preview's cluster calls. */
  preview(objects: KubernetesObject[]): Promise<number>;
}

export function createFloor(kubeconfigPath: string): Floor {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const api = KubernetesObjectApi.makeApiClient(kc);
  const apply = (object: KubernetesObject, dryRun: boolean) =>
    api.patch(
      object,
      undefined,
      dryRun ? 'All' : undefined,
      'backstage-modelops',
      true,
      PatchStrategy.ServerSideApply,
    );
  const timed = async (fn: () => Promise<unknown>) => {
    const started = performance.now();
    await fn();
    return performance.now() - started;
  };
  return {
    deploy: objects =>
      timed(async () => {
        for (const o of objects) await apply(o, true);
        for (const o of objects) await apply(o, false);
      }),
    preview: objects =>
      timed(async () => {
        for (const o of objects) await apply(o, true);
      }),
  };
}
