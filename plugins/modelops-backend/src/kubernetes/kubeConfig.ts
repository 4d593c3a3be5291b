import { Config } from '@backstage/config';
import { KubeConfig } from '@kubernetes/client-node';
import fs from 'node:fs';

/** Where the in-cluster service-account token lives when none is configured. */
export const IN_CLUSTER_TOKEN_PATH =
  '/var/run/secrets/kubernetes.io/serviceaccount/token';
export const IN_CLUSTER_CA_PATH =
  '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt';

/** Auth providers of the Kubernetes plugin that need a cloud's credentials. */
const CLOUD_AUTH_PROVIDERS: Record<string, string> = {
  aws: 'AWS IAM',
  google: 'Google sign-in',
  googleServiceAccount: 'a Google service account',
  azure: 'Azure identity',
  aks: 'AKS sign-in',
  oidc: 'the signed-in user’s OIDC token',
};

/** One cluster of `kubernetes.clusterLocatorMethods`, as ModelOps can use it. */
export type ClusterKubeConfig =
  | { kind: 'ok'; name: string; url: string; kubeConfig: KubeConfig }
  | { kind: 'unsupported'; name: string; message: string };

/**
 * Builds the `KubeConfig` of one `type: config` cluster entry of the
 * Kubernetes plugin's configuration: its URL, TLS trust (caData, caFile or,
 * in a pod, the mounted service-account CA; skipTLSVerify) and a bearer token
 * (serviceAccountToken, or the mounted service-account token file, which
 * client-node re-reads as it rotates). Clusters ModelOps cannot use come back
 * as `unsupported` with a message a platform engineer can act on; nothing is
 * thrown, so one bad entry does not hide the others.
 */
export function clusterKubeConfig(
  cluster: Config,
  options: {
    tokenPath?: string;
    caPath?: string;
  } = {},
): ClusterKubeConfig {
  const tokenPath = options.tokenPath ?? IN_CLUSTER_TOKEN_PATH;
  const caPath = options.caPath ?? IN_CLUSTER_CA_PATH;
  const name = cluster.getString('name');
  const url = cluster.getString('url');
  const where = `for cluster ${name} in kubernetes.clusterLocatorMethods`;
  const unsupported = (message: string): ClusterKubeConfig => ({
    kind: 'unsupported',
    name,
    message,
  });

  const authProvider = cluster.getOptionalString('authProvider');
  if (authProvider !== 'serviceAccount') {
    const cloud = authProvider ? CLOUD_AUTH_PROVIDERS[authProvider] : undefined;
    return unsupported(
      `Cluster ${name} uses authProvider "${authProvider ?? '(none)'}"${
        cloud ? ` (${cloud})` : ''
      }, which ModelOps deployments do not support; configure it with authProvider: serviceAccount and a serviceAccountToken in kubernetes.clusterLocatorMethods`,
    );
  }

  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return unsupported(
      `Cluster ${name} has url "${url}", which is not a URL; set the API server's https:// URL ${where}`,
    );
  }
  const skipTLSVerify = cluster.getOptionalBoolean('skipTLSVerify') ?? false;
  if (parsed.protocol === 'http:' && !skipTLSVerify) {
    return unsupported(
      `Cluster ${name} has a plain http:// url (${url}); ModelOps sends a service account token only over https, unless skipTLSVerify: true is set ${where}`,
    );
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return unsupported(
      `Cluster ${name} has url ${url}, which is neither https:// nor http://; set the API server's https:// URL ${where}`,
    );
  }

  const configuredToken = cluster.getOptionalString('serviceAccountToken');
  if (!configuredToken && !fs.existsSync(tokenPath)) {
    return unsupported(
      `Cluster ${name} has no serviceAccountToken and no service account token is mounted at ${tokenPath} (the backend does not run in a pod); set serviceAccountToken ${where}`,
    );
  }

  const caData = cluster.getOptionalString('caData');
  const configuredCaFile = cluster.getOptionalString('caFile');
  let caFile: string | undefined;
  if (!caData && configuredCaFile) {
    try {
      fs.accessSync(configuredCaFile, fs.constants.R_OK);
    } catch (e) {
      return unsupported(
        `Cluster ${name}: cannot read caFile ${configuredCaFile} (${
          (e as Error).message
        }); fix caFile ${where}`,
      );
    }
    caFile = configuredCaFile;
  } else if (!caData && !configuredToken && fs.existsSync(caPath)) {
    // In a pod talking to its own cluster: trust the mounted cluster CA.
    caFile = caPath;
  }

  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [
      {
        name,
        server: url,
        skipTLSVerify,
        ...(caData ? { caData } : {}),
        ...(caFile ? { caFile } : {}),
      },
    ],
    users: [
      configuredToken
        ? { name: 'modelops', token: configuredToken }
        : {
            name: 'modelops',
            authProvider: {
              name: 'tokenFile',
              config: { tokenFile: tokenPath },
            },
          },
    ],
    contexts: [{ name, cluster: name, user: 'modelops' }],
    currentContext: name,
  });
  return { kind: 'ok', name, url, kubeConfig };
}
