import { InputError } from '@backstage/errors';
import { CST, isScalar, Lexer, parseAllDocuments, Tags, visit } from 'yaml';
import { KubeObject } from '../kubernetes/types';

/** Limits of `parseManifests`. */
export interface ManifestLimits {
  /** Total size of the YAML text in bytes. Default 1 MiB. */
  maxBytes?: number;
  /** Number of non-empty documents. Default 50. */
  maxDocuments?: number;
  /** Alias (`*ref`) expansions per document. Default 50. */
  maxAliasCount?: number;
  /**
   * Values (scalars, aliases, collections) in the whole text. Default
   * 20,000. Bounds the CPU spent parsing (the YAML parser is slow on huge
   * collections); with aliases expanded an object may have 4x as many.
   */
  maxNodes?: number;
}

/** Labels and annotations ModelOps sets on what it deploys. */
export const LABEL_KUBERNETES_ID = 'backstage.io/kubernetes-id';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'backstage-modelops';
export const ANNOTATION_REVISION = 'modelops/revision';
export const ANNOTATION_ENTITY_REF = 'modelops/entity-ref';

const DEFAULT_LIMITS: Required<ManifestLimits> = {
  maxBytes: 1024 * 1024,
  maxDocuments: 50,
  maxAliasCount: 50,
  maxNodes: 20_000,
};

const NODE_TOKENS = new Set([
  'scalar',
  'single-quoted-scalar',
  'double-quoted-scalar',
  'alias',
  'flow-seq-start',
  'flow-map-start',
  'seq-item-ind',
]);

/**
 * A cheap lex before the (slower) parse: refuses text with more than
 * `maxNodes` scalars and aliases, or far more documents than allowed.
 */
function checkTokenCounts(
  text: string,
  maxNodes: number,
  maxDocuments: number,
): string | undefined {
  let nodes = 0;
  let docs = 0;
  const maxDocStarts = maxDocuments * 4 + 10; // leaves room for empty documents
  for (const token of new Lexer().lex(text)) {
    const type = CST.tokenType(token);
    if (type && NODE_TOKENS.has(type) && ++nodes > maxNodes) {
      return `Manifests have more than ${maxNodes} YAML values; split them or remove unused parts`;
    }
    if (type === 'doc-start' && ++docs > maxDocStarts) {
      return `Manifests have more than ${maxDocStarts} YAML documents (the limit is ${maxDocuments} non-empty ones)`;
    }
  }
  return undefined;
}

/** Duplicate mapping keys, found in linear time (the parser's check is quadratic). */
function duplicateKeys(
  doc: ReturnType<typeof parseAllDocuments>[number],
): string[] {
  const found: string[] = [];
  visit(doc, {
    Map(_, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        const key = String(pair.key.value);
        if (key === '<<') continue;
        if (seen.has(key) && found.length < 5) found.push(key);
        seen.add(key);
      }
    },
  });
  return found;
}

const MAX_REPORTED_PROBLEMS = 20;

// RFC 1123 subdomain: what metadata.name must be for most kinds.
const DNS_SUBDOMAIN =
  /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** True when `name` is a valid RFC 1123 subdomain (at most 253 characters). */
export function isDnsSubdomain(name: string): boolean {
  return name.length <= 253 && DNS_SUBDOMAIN.test(name);
}

// YAML 1.1 like kubectl (sigs.k8s.io/yaml reads `0644` as octal and `yes`
// as true), but without the 1.1 types that have no JSON form.
const JSON_INCOMPATIBLE_TAGS = new Set([
  'tag:yaml.org,2002:timestamp',
  'tag:yaml.org,2002:binary',
  'tag:yaml.org,2002:omap',
  'tag:yaml.org,2002:pairs',
  'tag:yaml.org,2002:set',
]);

function kubectlCompatibleTags(tags: Tags): Tags {
  return tags.filter(t => {
    const tag = t as { tag?: string; format?: string };
    return !JSON_INCOMPATIBLE_TAGS.has(tag.tag ?? '') && tag.format !== 'TIME';
  });
}

function describeValueType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'a mapping' : `a ${typeof value}`;
}

/**
 * The path of a value that contains itself (`data: &x {k: *x}`: a YAML
 * alias of an enclosing anchor), or undefined. Iterative, so neither a
 * cycle nor deep nesting can overflow the stack; values shared by several
 * aliases without a cycle are fine.
 */
export function findCycle(root: unknown): string | undefined {
  const onPath = new Set<object>();
  const stack: Array<
    { exit: object } | { value: unknown; path: string; exit?: undefined }
  > = [{ value: root, path: '' }];
  while (stack.length) {
    const top = stack.pop()!;
    if (top.exit !== undefined) {
      onPath.delete(top.exit);
      continue;
    }
    const { value, path } = top as { value: unknown; path: string };
    if (value === null || typeof value !== 'object') continue;
    if (onPath.has(value)) return path || '(root)';
    onPath.add(value);
    stack.push({ exit: value });
    const entries: Array<[string, unknown]> = Array.isArray(value)
      ? value.map((v, i) => [`${path}[${i}]`, v])
      : Object.entries(value as Record<string, unknown>).map(([k, v]) => [
          path ? `${path}.${k}` : k,
          v,
        ]);
    for (let i = entries.length - 1; i >= 0; i--) {
      stack.push({ value: entries[i][1], path: entries[i][0] });
    }
  }
  return undefined;
}

/**
 * Finds a value that JSON cannot carry (NaN, Infinity, Date, ...) and
 * measures the object as it would be sent, aliases expanded: `budget`
 * bounds the nodes and string bytes, so a few aliases of a huge anchor
 * cannot blow up into a giant request.
 */
function findNonJson(
  value: unknown,
  path: string,
  budget: { nodes: number; bytes: number },
  onPath: Set<object> = new Set(),
): string | undefined {
  budget.nodes--;
  if (budget.nodes < 0 || budget.bytes < 0) {
    return 'the document is too large once its YAML aliases are expanded';
  }
  if (value === null) return undefined;
  switch (typeof value) {
    case 'string':
      budget.bytes -= value.length;
      return budget.bytes < 0
        ? 'the document is too large once its YAML aliases are expanded'
        : undefined;
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value)
        ? undefined
        : `${path || '(root)'} is ${value}, which JSON cannot represent`;
    case 'object': {
      if (onPath.has(value as object)) {
        return `${path || '(root)'} refers to itself through a YAML alias`;
      }
      onPath.add(value as object);
      try {
        if (Array.isArray(value)) {
          for (let i = 0; i < value.length; i++) {
            const found = findNonJson(
              value[i],
              `${path}[${i}]`,
              budget,
              onPath,
            );
            if (found) return found;
          }
          return undefined;
        }
        const proto = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null) {
          return `${
            path || '(root)'
          } has a YAML type that JSON cannot represent`;
        }
        for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
          budget.bytes -= k.length;
          const found = findNonJson(
            v,
            path ? `${path}.${k}` : k,
            budget,
            onPath,
          );
          if (found) return found;
        }
        return undefined;
      } finally {
        onPath.delete(value as object);
      }
    }
    default:
      return `${path || '(root)'} is a ${typeof value}`;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks the identity fields of one object; returns the problems. */
export function checkObjectShape(value: unknown): string[] {
  if (!isRecord(value)) {
    return [
      `must be a mapping (a Kubernetes object), not ${describeValueType(
        value,
      )}`,
    ];
  }
  const problems: string[] = [];
  if (typeof value.apiVersion !== 'string' || !value.apiVersion.trim()) {
    problems.push('apiVersion must be a non-empty string');
  }
  if (typeof value.kind !== 'string' || !value.kind.trim()) {
    problems.push('kind must be a non-empty string');
  } else if (/List$/.test(value.kind) && Array.isArray(value.items)) {
    problems.push(
      `kind ${value.kind} is not supported; put each object in its own YAML document`,
    );
  }
  const metadata = value.metadata;
  if (!isRecord(metadata)) {
    problems.push('metadata must be a mapping with a name');
    return problems;
  }
  if (typeof metadata.name !== 'string' || !metadata.name) {
    problems.push(
      metadata.generateName
        ? 'metadata.name is required (generateName cannot be applied repeatably)'
        : 'metadata.name must be a non-empty string',
    );
  } else if (!isDnsSubdomain(metadata.name)) {
    problems.push(
      `metadata.name "${metadata.name}" is not a valid name (lowercase letters, digits, "-" and ".", alphanumeric at both ends, at most 253 characters)`,
    );
  }
  if (
    metadata.namespace !== undefined &&
    (typeof metadata.namespace !== 'string' || !metadata.namespace)
  ) {
    problems.push('metadata.namespace must be a non-empty string when set');
  }
  for (const key of ['labels', 'annotations'] as const) {
    const map = metadata[key];
    if (map === undefined || map === null) continue;
    if (!isRecord(map)) {
      problems.push(`metadata.${key} must be a mapping of strings`);
      continue;
    }
    for (const [k, v] of Object.entries(map)) {
      if (typeof v !== 'string') {
        problems.push(
          `metadata.${key}["${k}"] must be a string (quote it), not ${describeValueType(
            v,
          )}`,
        );
      }
    }
  }
  return problems;
}

/**
 * Parses multi-document YAML into Kubernetes objects. Empty documents are
 * skipped. Every problem is collected and thrown as one InputError naming the
 * document (1-based, counting every `---` document) and what is wrong. Alias
 * expansion is bounded, so a "billion laughs" document fails fast.
 */
export function parseManifests(
  text: string,
  limits: ManifestLimits = {},
): KubeObject[] {
  const { maxBytes, maxDocuments, maxAliasCount, maxNodes } = {
    ...DEFAULT_LIMITS,
    ...limits,
  };
  const size = Buffer.byteLength(text, 'utf8');
  if (size > maxBytes) {
    throw new InputError(
      `Manifests are ${size} bytes, more than the limit of ${maxBytes} bytes`,
    );
  }

  const tooLarge = checkTokenCounts(text, maxNodes, maxDocuments);
  if (tooLarge) throw new InputError(tooLarge);

  let docs: ReturnType<typeof parseAllDocuments>;
  try {
    docs = parseAllDocuments(text, {
      version: '1.1',
      customTags: kubectlCompatibleTags,
      uniqueKeys: false,
      prettyErrors: true,
    });
  } catch (e) {
    throw new InputError(
      `Manifests are not valid YAML: ${(e as Error).message}`,
    );
  }
  const list = Array.isArray(docs) ? docs : [];

  const problems: string[] = [];
  const objects: KubeObject[] = [];
  let nonEmpty = 0;
  // Shared by all documents; only alias expansion can exceed it.
  const budget = { nodes: 4 * maxNodes, bytes: 2 * maxBytes };
  list.forEach((doc, i) => {
    const where = `document ${i + 1}`;
    if (doc.errors.length) {
      problems.push(
        `${where}: invalid YAML: ${doc.errors
          .map(e => e.message.split('\n')[0])
          .join('; ')}`,
      );
      return;
    }
    if (doc.contents === null) return; // empty document
    nonEmpty++;
    if (nonEmpty > maxDocuments) return;
    const duplicates = duplicateKeys(doc);
    if (duplicates.length) {
      problems.push(
        `${where}: duplicate key${duplicates.length > 1 ? 's' : ''} ${duplicates
          .map(k => `"${k}"`)
          .join(', ')} in a mapping`,
      );
      return;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount });
    } catch (e) {
      const message = (e as Error).message;
      problems.push(
        /alias/i.test(message)
          ? `${where}: too many YAML alias expansions (limit ${maxAliasCount}); write the values out instead of using anchors`
          : `${where}: ${message}`,
      );
      return;
    }
    if (value === null || value === undefined) {
      nonEmpty--;
      return;
    }
    // Before any other walk over the value: a cycle would never end.
    const cycle = findCycle(value);
    if (cycle) {
      problems.push(
        `${where} refers to itself through a YAML alias (at ${cycle}); an anchor cannot be used inside its own value, write the value out instead`,
      );
      return;
    }
    const shape = checkObjectShape(value);
    if (shape.length) {
      problems.push(...shape.map(p => `${where}: ${p}`));
      return;
    }
    const nonJson = findNonJson(value, '', budget);
    if (nonJson) {
      problems.push(`${where}: ${nonJson}`);
      return;
    }
    objects.push(value as KubeObject);
  });

  if (nonEmpty > maxDocuments) {
    problems.unshift(
      `there are ${nonEmpty} documents, more than the limit of ${maxDocuments}`,
    );
  }
  if (!problems.length && !objects.length) {
    problems.push('no Kubernetes objects found (every document is empty)');
  }
  if (problems.length) {
    const shown = problems.slice(0, MAX_REPORTED_PROBLEMS);
    const more = problems.length - shown.length;
    throw new InputError(
      `Invalid manifests: ${shown.join('; ')}${
        more > 0 ? `; and ${more} more problem(s)` : ''
      }`,
    );
  }
  return objects;
}

// --- image references -------------------------------------------------------

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]+)?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const TAG = '[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}';
const DIGEST =
  '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const IMAGE_REFERENCE = new RegExp(
  `^((?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::(${TAG}))?(?:@(${DIGEST}))?$`,
);

/** The parts of an OCI image reference. */
export interface ImageReference {
  repository: string;
  tag?: string;
  digest?: string;
}

/** Parses `registry/path:tag@digest`, or undefined when it is not one. */
export function parseImageReference(ref: string): ImageReference | undefined {
  if (ref.length > 512) return undefined;
  const m = IMAGE_REFERENCE.exec(ref);
  if (!m || m[1].length > 255) return undefined;
  return { repository: m[1], tag: m[2], digest: m[3] };
}

/** Throws an InputError unless `ref` is a strict OCI image reference. */
export function validateImageReference(ref: string): ImageReference {
  const parsed = parseImageReference(ref);
  if (!parsed) {
    throw new InputError(
      `"${ref.slice(
        0,
        300,
      )}" is not a valid image reference; expected registry/repository:tag or registry/repository@sha256:<digest> (lowercase repository, no spaces or quotes)`,
    );
  }
  return parsed;
}

/** `docker.io/library/x` and `x` name the same repository. */
function normalizeRepository(repository: string): string {
  let r = repository;
  if (r.startsWith('docker.io/')) r = r.slice('docker.io/'.length);
  else if (r.startsWith('index.docker.io/'))
    r = r.slice('index.docker.io/'.length);
  if (r.startsWith('library/') && r.split('/').length === 2) {
    r = r.slice('library/'.length);
  }
  return r;
}

/** True when an image reference is in the given repository. */
export function imageInRepository(image: string, repository: string): boolean {
  const parsed = parseImageReference(image);
  return (
    !!parsed &&
    normalizeRepository(parsed.repository) === normalizeRepository(repository)
  );
}

// --- built-in templates -----------------------------------------------------

/** What a built-in template needs. */
export interface BuiltinContext {
  kubernetesId: string;
  namespace: string;
  image: string;
  runtime: string;
  entityRef: string;
}

const MODEL_PORT = 8080;

function modelServerEnv(ctx: BuiltinContext) {
  return [
    { name: 'MODEL_SERVER_HOST', value: '0.0.0.0' },
    { name: 'MODEL_SERVER_PORT', value: String(MODEL_PORT) },
    { name: 'MODEL_NAME', value: ctx.kubernetesId },
    { name: 'MODEL_RUNTIME', value: ctx.runtime },
  ];
}

const RESOURCES = {
  requests: { cpu: '100m', memory: '256Mi' },
  limits: { cpu: '1', memory: '1Gi' },
};

const SCRAPE_ANNOTATIONS = {
  'prometheus.io/scrape': 'true',
  'prometheus.io/port': String(MODEL_PORT),
  'prometheus.io/path': '/metrics',
};

/**
 * The objects of a built-in template. `deployment`: Deployment (2 replicas,
 * probes on the Open Inference Protocol health routes, Prometheus scrape
 * annotations) + Service (80 -> 8080) + HorizontalPodAutoscaler (2-5, CPU
 * 70 %). `kserve`: one InferenceService with a custom predictor container.
 * The result still goes through `renderManifests`.
 */
export function builtinManifests(
  template: 'deployment' | 'kserve',
  ctx: BuiltinContext,
): KubeObject[] {
  validateImageReference(ctx.image);
  const id = ctx.kubernetesId;
  const labels = {
    'app.kubernetes.io/name': id,
    [LABEL_KUBERNETES_ID]: id,
  };
  if (template === 'kserve') {
    return [
      {
        apiVersion: 'serving.kserve.io/v1beta1',
        kind: 'InferenceService',
        metadata: { name: id, namespace: ctx.namespace, labels: { ...labels } },
        spec: {
          predictor: {
            minReplicas: 1,
            maxReplicas: 3,
            labels: { ...labels },
            annotations: { ...SCRAPE_ANNOTATIONS },
            containers: [
              {
                // KServe requires this name for a custom predictor container.
                name: 'kserve-container',
                image: ctx.image,
                ports: [{ containerPort: MODEL_PORT, protocol: 'TCP' }],
                env: modelServerEnv(ctx),
                resources: RESOURCES,
                readinessProbe: {
                  httpGet: { path: '/v2/health/ready', port: MODEL_PORT },
                  periodSeconds: 5,
                },
              },
            ],
          },
        },
      },
    ];
  }
  if (template !== 'deployment') {
    throw new InputError(
      `Unknown built-in template "${template}" (known: deployment, kserve)`,
    );
  }
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: id, namespace: ctx.namespace, labels: { ...labels } },
      spec: {
        replicas: 2,
        revisionHistoryLimit: 10,
        selector: { matchLabels: { [LABEL_KUBERNETES_ID]: id } },
        strategy: {
          type: 'RollingUpdate',
          rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 },
        },
        template: {
          metadata: {
            labels: { ...labels },
            annotations: { ...SCRAPE_ANNOTATIONS },
          },
          spec: {
            containers: [
              {
                name: 'model-server',
                image: ctx.image,
                ports: [
                  { name: 'http', containerPort: MODEL_PORT, protocol: 'TCP' },
                ],
                env: modelServerEnv(ctx),
                resources: RESOURCES,
                readinessProbe: {
                  httpGet: { path: '/v2/health/ready', port: 'http' },
                  initialDelaySeconds: 2,
                  periodSeconds: 5,
                  failureThreshold: 3,
                },
                livenessProbe: {
                  httpGet: { path: '/v2/health/live', port: 'http' },
                  initialDelaySeconds: 10,
                  periodSeconds: 10,
                  failureThreshold: 3,
                },
              },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: id, namespace: ctx.namespace, labels: { ...labels } },
      spec: {
        selector: { [LABEL_KUBERNETES_ID]: id },
        ports: [
          { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' },
        ],
      },
    },
    {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: id, namespace: ctx.namespace, labels: { ...labels } },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: id },
        minReplicas: 2,
        maxReplicas: 5,
        metrics: [
          {
            type: 'Resource',
            resource: {
              name: 'cpu',
              target: { type: 'Utilization', averageUtilization: 70 },
            },
          },
        ],
      },
    },
  ];
}

// --- rendering --------------------------------------------------------------

/** What `renderManifests` stamps on every object. */
export interface RenderOptions {
  namespace: string;
  kubernetesId: string;
  /** Image to deploy; when absent the manifests' images are kept. */
  image?: string;
  revision: number;
  entityRef: string;
  /** The entity's `modelops/image` repository, to pick the container. */
  imageRepository?: string;
}

type Container = { name?: string; image?: unknown; [k: string]: unknown };

function pickContainer(
  containers: Container[],
  imageRepository: string | undefined,
): Container | undefined {
  if (imageRepository) {
    const match = containers.find(
      c =>
        typeof c.image === 'string' &&
        imageInRepository(c.image, imageRepository),
    );
    if (match) return match;
  }
  return containers[0];
}

/**
 * Returns copies of the objects ready to apply: namespace forced (an object
 * naming another namespace is refused), ModelOps labels on objects and
 * Deployment pod templates, revision and entity annotations, and the image
 * set on the model container. Never mutates its input.
 */
export function renderManifests(
  objects: readonly KubeObject[],
  options: RenderOptions,
): KubeObject[] {
  if (options.image !== undefined) validateImageReference(options.image);
  if (options.imageRepository !== undefined && options.imageRepository) {
    // Repository only: validate it as a reference without tag or digest.
    const parsed = parseImageReference(options.imageRepository);
    if (!parsed || parsed.tag || parsed.digest) {
      throw new InputError(
        `"${options.imageRepository}" is not an image repository (lowercase registry/path, without tag or digest)`,
      );
    }
  }
  const problems: string[] = [];
  const stampLabels = {
    [LABEL_KUBERNETES_ID]: options.kubernetesId,
    [LABEL_MANAGED_BY]: MANAGED_BY_VALUE,
  };
  const rendered = objects.map((input, i) => {
    const obj = structuredClone(input) as KubeObject;
    const what = `${obj.kind} ${obj.metadata?.name} (object ${i + 1})`;
    const ns = obj.metadata.namespace;
    if (ns !== undefined && ns !== options.namespace) {
      problems.push(
        `${what} names namespace "${ns}", but this environment deploys to "${options.namespace}"; remove metadata.namespace or set it to "${options.namespace}"`,
      );
    }
    obj.metadata.namespace = options.namespace;
    obj.metadata.labels = { ...(obj.metadata.labels ?? {}), ...stampLabels };
    obj.metadata.annotations = {
      ...(obj.metadata.annotations ?? {}),
      [ANNOTATION_REVISION]: String(options.revision),
      [ANNOTATION_ENTITY_REF]: options.entityRef,
    };

    if (obj.kind === 'Deployment' && obj.apiVersion === 'apps/v1') {
      const spec = (obj.spec ?? {}) as Record<string, any>;
      const template = (spec.template ??= {});
      template.metadata ??= {};
      template.metadata.labels = {
        ...(template.metadata.labels ?? {}),
        ...stampLabels,
      };
      const containers: Container[] = template.spec?.containers ?? [];
      if (options.image !== undefined) {
        const target = pickContainer(containers, options.imageRepository);
        if (!target) {
          problems.push(`${what} has no containers to set the image on`);
        } else {
          target.image = options.image;
        }
      }
      obj.spec = spec;
    } else if (
      obj.kind === 'InferenceService' &&
      obj.apiVersion.startsWith('serving.kserve.io/')
    ) {
      const predictor = ((obj.spec as any)?.predictor ?? undefined) as
        | Record<string, any>
        | undefined;
      if (options.image !== undefined) {
        const containers: Container[] | undefined = predictor?.containers;
        if (containers?.length) {
          pickContainer(containers, options.imageRepository)!.image =
            options.image;
        } else if (predictor?.model && typeof predictor.model === 'object') {
          predictor.model.image = options.image;
        } else {
          problems.push(
            `${what} has no predictor container (spec.predictor.containers) to set the image on`,
          );
        }
      }
    }
    return obj;
  });
  if (problems.length) {
    throw new InputError(`Cannot render manifests: ${problems.join('; ')}`);
  }
  return rendered;
}
