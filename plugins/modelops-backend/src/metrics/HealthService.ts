/**
 * Model services' health per environment: each signal read from the metrics
 * source and judged against the service's thresholds, and the pods'
 * readiness from the cluster. Errors are data: a metrics source that is down
 * or slow makes its signals `unknown` with the reason, a cluster that is down
 * makes readiness unknown, and everything else still answers.
 *
 * One service (`health`) is read with its own matchers. Many (`query`, the
 * overview) cost a fixed number of upstream requests whatever their number:
 * per runtime and signal one PromQL query grouped by service, cluster and
 * namespace, and per cluster one list of Deployments; the answers are
 * shared between callers for `modelops.metrics.cacheSeconds`.
 */
import { LoggerService } from '@backstage/backend-plugin-api';
import { InputError, NotAllowedError } from '@backstage/errors';
import {
  ANNOTATION_KUBERNETES_ID,
  ANNOTATION_KUBERNETES_NAMESPACE,
  ANNOTATION_METRICS_SELECTOR,
  EnvironmentHealth,
  EnvironmentHealthSummary,
  formatSelector,
  HealthQueryResponse,
  HealthResponse,
  HealthStatus,
  healthStatusRank,
  LabelMatcher,
  ModelOpsEnvironment,
  ServiceHealthSummary,
  SignalHealth,
  SignalValues,
} from '@modelops/plugin-modelops-common';
import { ModelOpsConfig } from '../config';
import { LABEL_KUBERNETES_ID } from '../deploy/labels';
import { computeRolloutStatus, slimDeployment } from '../deploy/status/status';
import { ClusterClients } from '../kubernetes/ClusterClients';
import { KubeObject, ResourceInfo } from '../kubernetes/types';
import { WatchedList } from '../kubernetes/WatchedList';
import { DeploymentService } from '../service/DeploymentService';
import { ModelServiceTarget } from '../service/entities';
import { EnvironmentService } from '../service/EnvironmentService';
import { evaluateSignals, Outcome, signalsToRead, Workload } from './evaluate';
import { SignalThresholds, thresholdsFor, worstOf } from './health';
import { DeploymentStore } from '../database/DeploymentStore';
import { ModelOpsMetricsSource } from '@modelops/plugin-modelops-node';
import { InstantSample } from './PrometheusClient';
import { driftForMany, driftFromHistograms } from './histogramDrift';
import { DriftReferenceStore } from '../database/DriftReferenceStore';
import {
  DEFAULT_QUERY_SETS,
  QuerySet,
  querySetFor,
  renderQuery,
  Runtime,
  Signal,
  SignalQuery,
} from './queries';
import { SharedCache } from './SharedCache';

/** The annotations that decide which series are the service's. */
const SELECTING_ANNOTATIONS = [
  ANNOTATION_KUBERNETES_ID,
  ANNOTATION_KUBERNETES_NAMESPACE,
  ANNOTATION_METRICS_SELECTOR,
];

/** Why signals are unknown when no metrics source is configured. */
export const NO_SOURCE =
  'no metrics source is configured (modelops.metrics.prometheus)';

/**
 * Why the annotations that select a service's series keep it from being
 * read, or undefined. A malformed part is refused, never dropped (that would
 * widen the selection) nor pasted.
 */
export function selectionProblem(
  target: ModelServiceTarget,
): string | undefined {
  const selecting = target.contract.problems.filter(p =>
    SELECTING_ANNOTATIONS.includes(p.annotation),
  );
  if (!selecting.length) return undefined;
  return `Cannot read the metrics of ${
    target.ref
  } until its annotations are fixed: ${selecting
    .map(p => `${p.annotation} ${p.message}`)
    .join('; ')}`;
}

/** An environment whose series cannot be selected, and why; undefined when they can. */
function notMonitorable(
  target: ModelServiceTarget,
  env: ModelOpsEnvironment,
): string | undefined {
  if (env.error) return env.error.message;
  if (!target.contract.kubernetesId)
    return 'the entity has no valid backstage.io/kubernetes-id annotation, so no series can be selected';
  return undefined;
}

/** The matchers of a service in one environment: cluster, namespace, id, then its own. */
export function serviceMatchers(
  labels: ModelOpsConfig['metrics']['labels'],
  target: ModelServiceTarget,
  env: { cluster: string; namespace: string },
): LabelMatcher[] {
  return [
    { name: labels.cluster, op: '=', value: env.cluster },
    { name: labels.namespace, op: '=', value: env.namespace },
    { name: labels.service, op: '=', value: target.contract.kubernetesId! },
    ...target.contract.metricsMatchers,
  ];
}

/** The labels every query groups by: service, cluster, namespace. */
export function groupByLabels(
  labels: ModelOpsConfig['metrics']['labels'],
): string[] {
  return [labels.service, labels.cluster, labels.namespace];
}

/** Services with the same runtime and own matchers are read by the same queries. */
function groupKeyOf(target: ModelServiceTarget): string {
  return JSON.stringify([
    target.contract.runtime,
    target.contract.metricsMatchers
      .map(x => `${x.name}${x.op}${x.value}`)
      .sort(),
  ]);
}

/**
 * The overview needs each service's largest feature drift (and which
 * feature), not every feature's: one series per service and environment
 * instead of one per feature keeps the answer within the series limit at
 * 10,000 services.
 */
export function overviewTemplate(
  signal: Signal,
  template: SignalQuery,
): SignalQuery {
  if (signal !== 'featureDrift' || typeof template !== 'string')
    return template;
  return `topk by ($by) (1, ${template})`;
}

/** The overview's reads: identical queries of one request share one answer. */
interface SharedReads {
  readAt(at: number): void;
  inflight: Map<string, Promise<{ value: InstantSample[]; at: number }>>;
}

/** A service in one environment, as the overview reads it. */
interface Member {
  target: ModelServiceTarget;
  env: ModelOpsEnvironment;
  /** Its group (runtime and own matchers): the queries that read it. */
  group: Group;
  /** Its place in the group: where its samples are in each of the group's answers. */
  slot: number;
  /** Its workload, from the cluster's answer. */
  workload?: Workload;
  /** Drift computed from its input histograms, where it exports no drift gauges. */
  drift?: Outcome;
}
/** Services read by the same queries, and how to find a sample's service among them. */
interface Group {
  members: Member[];
  /** Members by Kubernetes id (a handful each: one per environment). */
  byId: Map<string, Member[]>;
  /** The answers of its queries, by signal, once read. */
  results?: Map<Signal, Read<BySlot>>;
}
/** A group's answer to one query, by member slot: its samples, or undefined for no series. */
type BySlot = (InstantSample[] | undefined)[];
type Read<T> = { unavailable: string } | { error: string } | { samples: T };
/** What a member without series reads (never written to). */
const NO_SAMPLES: readonly InstantSample[] = Object.freeze([]);

/**
 * Reference distributions the overview reads from the metrics source per
 * request at most (each once per revision; later requests find them in the
 * database).
 */
export const MAX_REFERENCE_READS_PER_OVERVIEW = 8;

const workloadKey = (namespace: string, id: string) =>
  `${namespace}\u0000${id}`;
/** The Deployment watch of a cluster, in one namespace or (no namespace) all. */
const watchKey = (cluster: string, namespace?: string) =>
  `${cluster}\u0000${namespace ?? ''}`;

/** A logger for a service built without one (tests). */
const rootlessLogger = {
  warn: () => {},
} as unknown as LoggerService;

export class HealthService {
  private readonly cache: SharedCache;
  /** Per cluster (and namespace, where listing cluster-wide is not granted), the watched Deployments. */
  private readonly watches = new Map<string, WatchedList>();
  /** Clusters where the backend may not list Deployments cluster-wide. */
  private readonly namespaced = new Set<string>();
  /** Each runtime's query set with the config's overrides, worked out once. */
  private readonly querySets: Record<Runtime, QuerySet>;

  constructor(
    private readonly options: {
      config: ModelOpsConfig;
      environments: EnvironmentService;
      deployments: DeploymentService;
      clusters: ClusterClients;
      /** Deploy history: anchors the reference window of histogram drift. */
      store: DeploymentStore;
      /** Keeps the reference distributions of histogram drift. */
      references: DriftReferenceStore;
      /** Undefined when no metrics source is configured. */
      source?: ModelOpsMetricsSource;
      logger?: LoggerService;
    },
  ) {
    this.cache = new SharedCache(options.config.metrics.cacheSeconds * 1000);
    const overrides = options.config.metrics.querySets;
    this.querySets = Object.fromEntries(
      (Object.keys(DEFAULT_QUERY_SETS) as Runtime[]).map(r => [
        r,
        querySetFor(r, overrides),
      ]),
    ) as Record<Runtime, QuerySet>;
  }

  private serviceMatchers(
    target: ModelServiceTarget,
    env: { cluster: string; namespace: string },
  ): LabelMatcher[] {
    return serviceMatchers(this.options.config.metrics.labels, target, env);
  }

  private get groupBy(): string[] {
    return groupByLabels(this.options.config.metrics.labels);
  }

  /** One service, read with its own matchers; a 400 when its selecting annotations are malformed. */
  async health(options: {
    target: ModelServiceTarget;
  }): Promise<HealthResponse> {
    const { target } = options;
    const problem = selectionProblem(target);
    if (problem) throw new InputError(problem);
    const resolved = this.options.environments.resolve({ target });
    const status = await this.options.deployments.status({ target });
    const environments = await Promise.all(
      resolved.environments.map(env =>
        this.environmentHealth(
          target,
          env,
          status.environments.find(e => e.environment === env.name),
        ),
      ),
    );
    return {
      entityRef: resolved.entityRef,
      status: worstOf(environments.map(e => e.status)),
      window: this.options.config.metrics.window,
      environments,
    };
  }

  private async environmentHealth(
    target: ModelServiceTarget,
    env: ModelOpsEnvironment,
    workload: Workload | undefined,
  ): Promise<EnvironmentHealth> {
    const { metrics } = this.options.config;
    const base = {
      environment: env.name,
      cluster: env.cluster,
      namespace: env.namespace,
    };
    const why = notMonitorable(target, env);
    if (why) {
      return {
        ...base,
        status: 'unknown',
        signals: [],
        error: { reason: 'NotMonitorable', message: why },
      };
    }
    const matchers = this.serviceMatchers(target, env);
    const thresholds = thresholdsFor(target.contract.slo, metrics.slo);
    const set = this.querySets[target.contract.runtime];
    const outcomes = await this.readSignals(
      set,
      thresholds,
      matchers,
      metrics.window,
    );
    const gauges = outcomes.get('featureDrift');
    if (gauges && 'samples' in gauges && !gauges.samples.length) {
      // No drift gauges: drift from the input histograms, where exported.
      const computed = await this.histogramDrift(
        target,
        env,
        workload,
        set,
        matchers,
      );
      if (computed) outcomes.set('featureDrift', computed);
    }
    const selector = formatSelector(matchers);
    const result = evaluateSignals({
      set,
      thresholds,
      outcome: s => outcomes.get(s)!,
      selector: () => selector,
      window: metrics.window,
      workload,
    });
    return { ...base, selector, ...result };
  }

  /**
   * One revision's signals in one environment, for an analysis: the
   * service's matchers narrowed to the revision's pods (`podPattern`, a
   * regular expression the caller built from escaped names), read over
   * `window` and judged against the service's SLOs. Readiness is left to
   * the caller: a rollout in progress is not a breach.
   */
  async revisionSignals(options: {
    target: ModelServiceTarget;
    env: { cluster: string; namespace: string };
    podPattern: string;
    window: string;
  }): Promise<{ signals: SignalHealth[]; selector: string }> {
    const { target, env, podPattern, window } = options;
    const { metrics } = this.options.config;
    const problem = selectionProblem(target);
    if (problem) throw new InputError(problem);
    const matchers: LabelMatcher[] = [
      ...this.serviceMatchers(target, env),
      { name: metrics.labels.pod, op: '=~', value: podPattern },
    ];
    const thresholds = thresholdsFor(target.contract.slo, metrics.slo);
    const set = this.querySets[target.contract.runtime];
    const outcomes = await this.readSignals(set, thresholds, matchers, window);
    const selector = formatSelector(matchers);
    const { signals } = evaluateSignals({
      set,
      thresholds,
      outcome: s => outcomes.get(s)!,
      selector: () => selector,
      window,
      workload: undefined,
    });
    return {
      signals: signals.filter(s => s.signal !== 'readyRatio'),
      selector,
    };
  }

  /** Every signal health judges, read at once for one set of matchers. */
  private async readSignals(
    set: QuerySet,
    thresholds: SignalThresholds,
    matchers: LabelMatcher[],
    window: string,
  ): Promise<Map<Signal, Outcome>> {
    return new Map(
      await Promise.all(
        signalsToRead(thresholds).map(
          async s =>
            [
              s,
              await this.read(
                set[s],
                matchers,
                samples => samples,
                undefined,
                window,
              ),
            ] as const,
        ),
      ),
    );
  }

  /** Drift from the input histograms; undefined when none are exported. */
  private async histogramDrift(
    target: ModelServiceTarget,
    env: ModelOpsEnvironment,
    workload: Workload | undefined,
    set: QuerySet,
    matchers: LabelMatcher[],
  ): Promise<Outcome | undefined> {
    const template = set.featureHistogram;
    const source = this.options.source;
    if (typeof template !== 'string' || !source) return undefined;
    const { window, driftReferenceHours } = this.options.config.metrics;
    return driftFromHistograms({
      source,
      store: this.options.store,
      references: this.options.references,
      template,
      matchers,
      by: this.groupBy,
      window,
      referenceHours: driftReferenceHours,
      entityRef: target.ref,
      environment: env.name,
      revision: workload?.revision,
    });
  }

  /**
   * Runs one signal's query (cached when `shared`), or says why it cannot:
   * the runtime has no such signal, no source is configured, or the source
   * failed.
   */
  private async read<T>(
    template: string | { unavailable: string },
    matchers: LabelMatcher[],
    use: (samples: InstantSample[]) => T,
    shared?: SharedReads,
    window: string = this.options.config.metrics.window,
  ): Promise<{ unavailable: string } | { error: string } | { samples: T }> {
    if (typeof template !== 'string') return template;
    const source = this.options.source;
    if (!source) return { error: NO_SOURCE };
    try {
      const query = renderQuery(template, {
        matchers,
        window,
        by: this.groupBy,
      });
      let samples: InstantSample[];
      if (shared) {
        // Runtimes share some templates (drift): one query serves them all.
        let pending = shared.inflight.get(query);
        if (!pending) {
          pending = this.cache.get(`q:${query}`, () => source.instant(query));
          shared.inflight.set(query, pending);
        }
        const hit = await pending;
        samples = hit.value;
        shared.readAt(hit.at);
      } else samples = await source.instant(query);
      return { samples: use(samples) };
    } catch (e) {
      return { error: (e as Error).message };
    }
  }

  /**
   * Many services at once. Services whose selecting annotations are
   * malformed come back `unknown` with the reason (one bad entity does not
   * hide the others).
   */
  async query(options: {
    targets: readonly ModelServiceTarget[];
  }): Promise<HealthQueryResponse> {
    const { metrics } = this.options.config;
    // When the oldest upstream answer used was read (answers are shared).
    let generatedAt = Infinity;
    const readAt = (at: number) => {
      generatedAt = Math.min(generatedAt, at);
    };
    const shared: SharedReads = { readAt, inflight: new Map() };

    const items: ServiceHealthSummary[] = [];
    const members: Member[] = [];
    // Services with the same runtime and own matchers are read by the same
    // queries: one query per group and signal selects all of them at once.
    const groups = new Map<string, Group>();
    // What each service needs, worked out once; its members by environment.
    const resolvedOf = new Map<
      ModelServiceTarget,
      {
        environments: ModelOpsEnvironment[];
        problem?: string;
        thresholds: SignalThresholds;
        /** Aligned with `environments`: undefined where it cannot be monitored. */
        members: (Member | undefined)[];
      }
    >();
    for (const target of options.targets) {
      const problem = selectionProblem(target);
      const environments = this.options.environments.resolve({
        target,
      }).environments;
      const thresholds = thresholdsFor(target.contract.slo, metrics.slo);
      const own: (Member | undefined)[] = [];
      resolvedOf.set(target, {
        environments,
        problem,
        thresholds,
        members: own,
      });
      if (problem) continue;
      const groupKey = groupKeyOf(target);
      for (const env of environments) {
        if (notMonitorable(target, env)) {
          own.push(undefined);
          continue;
        }
        // A group has members: one is made for the first that can be read.
        let group = groups.get(groupKey);
        if (!group) {
          group = { members: [], byId: new Map() };
          groups.set(groupKey, group);
        }
        const m: Member = { target, env, group, slot: group.members.length };
        group.members.push(m);
        const id = target.contract.kubernetesId!;
        const same = group.byId.get(id);
        if (same) same.push(m);
        else group.byId.set(id, [m]);
        members.push(m);
        own.push(m);
      }
    }

    await Promise.all(
      [...groups.values()].map(async group => {
        const first = group.members[0].target;
        const set = this.querySets[first.contract.runtime];
        const needed = new Set<Signal>();
        for (const m of group.members)
          for (const s of signalsToRead(resolvedOf.get(m.target)!.thresholds))
            needed.add(s);
        const matchers = this.groupMatchers(first);
        const results = new Map(
          await Promise.all(
            [...needed].map(
              async s =>
                [
                  s,
                  await this.read(
                    overviewTemplate(s, set[s]),
                    matchers,
                    samples => this.bySlot(group, samples),
                    shared,
                  ),
                ] as const,
            ),
          ),
        );
        group.results = results;
      }),
    );
    const namespacesOf = new Map<string, Set<string>>();
    for (const m of members)
      namespacesOf.set(
        m.env.cluster,
        (namespacesOf.get(m.env.cluster) ?? new Set()).add(m.env.namespace),
      );
    const workloads = await this.workloadsByCluster(namespacesOf, readAt);
    for (const m of members)
      m.workload = workloads.get(m.env.cluster)?.(
        m.env.namespace,
        m.target.contract.kubernetesId!,
        m.target.contract.image,
      );
    await this.overviewHistogramDrift({ groups, shared });

    for (const target of options.targets) {
      const {
        environments: resolved,
        problem,
        thresholds,
        members: own,
      } = resolvedOf.get(target)!;
      const spec = (target.entity.spec ?? {}) as Record<string, unknown>;
      const about = {
        entityRef: target.ref,
        ...(target.entity.metadata.title
          ? { title: target.entity.metadata.title }
          : {}),
        ...(typeof spec.owner === 'string' ? { owner: spec.owner } : {}),
        ...(typeof spec.system === 'string' ? { system: spec.system } : {}),
        ...(typeof spec.lifecycle === 'string'
          ? { lifecycle: spec.lifecycle }
          : {}),
        runtime: target.contract.runtime,
      };
      if (problem) {
        items.push({
          ...about,
          status: 'unknown',
          environments: [],
          error: { reason: 'InvalidAnnotations', message: problem },
        });
        continue;
      }
      const set = this.querySets[target.contract.runtime];
      const environments = resolved.map((env, i): EnvironmentHealthSummary => {
        const base = {
          environment: env.name,
          cluster: env.cluster,
          namespace: env.namespace,
        };
        const m = own[i];
        if (!m)
          return {
            ...base,
            status: 'unknown',
            reason: notMonitorable(target, env)!,
            values: {},
          };
        const results = m.group.results!;
        const outcome = (s: Signal): Outcome => {
          if (s === 'featureDrift' && m.drift) return m.drift;
          const r = results.get(s);
          if (!r) return { unavailable: 'not read' };
          if (!('samples' in r)) return r;
          return {
            samples: (r.samples[m.slot] ?? NO_SAMPLES) as InstantSample[],
          };
        };
        const result = evaluateSignals({
          set,
          thresholds,
          outcome,
          // Only a signal without series says it: most members never need it.
          selector: () => formatSelector(this.serviceMatchers(target, env)),
          window: metrics.window,
          workload: m.workload,
        });
        return { ...base, ...summarize(result) };
      });
      items.push({
        ...about,
        status: worstOf(environments.map(e => e.status)),
        environments,
      });
    }
    items.sort(
      (a, b) =>
        healthStatusRank(b.status) - healthStatusRank(a.status) ||
        (a.entityRef < b.entityRef ? -1 : Number(a.entityRef > b.entityRef)),
    );
    return {
      window: metrics.window,
      generatedAt: new Date(
        Number.isFinite(generatedAt) ? generatedAt : Date.now(),
      ).toISOString(),
      items,
    };
  }

  /**
   * A group's samples by member slot: each sample goes to the members of its
   * service, cluster and namespace; samples of no member are dropped.
   */
  private bySlot(group: Group, samples: InstantSample[]): BySlot {
    const { labels } = this.options.config.metrics;
    const out: BySlot = new Array(group.members.length);
    for (const s of samples) {
      const candidates = group.byId.get(s.metric[labels.service] ?? '');
      if (!candidates) continue;
      const cluster = s.metric[labels.cluster] ?? '';
      const namespace = s.metric[labels.namespace] ?? '';
      for (const m of candidates) {
        if (m.env.cluster !== cluster || m.env.namespace !== namespace)
          continue;
        const list = out[m.slot];
        if (list) list.push(s);
        else out[m.slot] = [s];
      }
    }
    return out;
  }

  /** Every service of a group (runtime and metrics selector) at once. */
  private groupMatchers(target: ModelServiceTarget): LabelMatcher[] {
    return [
      { name: this.options.config.metrics.labels.service, op: '!=', value: '' },
      ...target.contract.metricsMatchers,
    ];
  }

  /**
   * Histogram drift for the overview's services that export input
   * histograms but no drift gauges, set on their members: per group one
   * query of the current histograms of exactly those services, one database
   * read of their stored references, and at most
   * MAX_REFERENCE_READS_PER_OVERVIEW references read from Prometheus (the
   * others say they come on a later refresh).
   */
  private async overviewHistogramDrift(options: {
    groups: Map<string, Group>;
    shared: SharedReads;
  }): Promise<void> {
    const source = this.options.source;
    if (!source) return;
    const { metrics } = this.options.config;
    const current = new Map<Member, InstantSample[]>();
    await Promise.all(
      [...options.groups.values()].map(async group => {
        const gauges = group.results?.get('featureDrift');
        if (!gauges || !('samples' in gauges)) return;
        const without = group.members.filter(m => !gauges.samples[m.slot]);
        const set = this.querySets[group.members[0].target.contract.runtime];
        const histograms = set.featureHistogram;
        // Asked whether or not a member lacks gauges, so that the overview's
        // query count does not depend on what the services export; the
        // answer holds only the services without gauges.
        if (typeof histograms !== 'string') return;
        const template =
          typeof set.featureDrift === 'string'
            ? `(${histograms}) unless on ($by) (${set.featureDrift})`
            : histograms;
        const read = await this.read(
          template,
          this.groupMatchers(group.members[0].target),
          samples => this.bySlot(group, samples),
          options.shared,
        );
        if (!('samples' in read)) return;
        for (const m of without) {
          const samples = read.samples[m.slot];
          if (samples?.length) current.set(m, samples);
        }
      }),
    );
    if (!current.size) return;

    const computed = await driftForMany({
      budget: MAX_REFERENCE_READS_PER_OVERVIEW,
      references: this.options.references,
      services: [...current].map(([m, samples]) => ({
        current: samples,
        options: {
          source,
          store: this.options.store,
          references: this.options.references,
          template: this.querySets[m.target.contract.runtime]
            .featureHistogram as string,
          matchers: this.serviceMatchers(m.target, m.env),
          by: this.groupBy,
          window: metrics.window,
          referenceHours: metrics.driftReferenceHours,
          entityRef: m.target.ref,
          environment: m.env.name,
          revision: m.workload?.revision,
        },
      })),
    });
    [...current.keys()].forEach((m, i) => {
      m.drift = computed[i]!;
    });
  }

  /** Stops the Deployment watches (the backend is shutting down). */
  stop(): void {
    for (const w of this.watches.values()) w.stop();
    this.watches.clear();
  }

  /** The watch of a cluster's Deployments that carry a Kubernetes id, in one namespace or all. */
  private watched(
    cluster: string,
    res: ResourceInfo,
    namespace?: string,
  ): WatchedList {
    const key = watchKey(cluster, namespace);
    let w = this.watches.get(key);
    if (!w) {
      w = new WatchedList({
        client: this.options.clusters.get(cluster),
        resource: res,
        namespace,
        labelSelector: LABEL_KUBERNETES_ID,
        slim: slimDeployment,
        logger: this.options.logger ?? rootlessLogger,
      });
      this.watches.set(key, w);
    }
    return w;
  }

  /**
   * The Deployments of a cluster that carry a Kubernetes id, by namespace
   * and id, from a watch of them (listed once, then kept current by the
   * cluster's events, so an overview costs the cluster nothing): one watch
   * over every namespace, or, where the backend may not list cluster-wide
   * (least-privilege RBAC), one per namespace in use.
   */
  private async listWorkloads(
    name: string,
    namespaces: Set<string>,
  ): Promise<Map<string, KubeObject[]>> {
    const client = this.options.clusters.get(name);
    const index = await client.discover();
    const res = index.lookup('apps/v1', 'Deployment');
    let list: KubeObject[] = [];
    if (res) {
      if (!this.namespaced.has(name)) {
        try {
          list = await this.watched(name, res).objects();
        } catch (e) {
          if (!(e instanceof NotAllowedError)) throw e;
          this.namespaced.add(name);
          this.watches.get(watchKey(name))?.stop();
          this.watches.delete(watchKey(name));
        }
      }
      if (this.namespaced.has(name))
        list = (
          await Promise.all(
            [...namespaces].map(ns => this.watched(name, res, ns).objects()),
          )
        ).flat();
    }
    const map = new Map<string, KubeObject[]>();
    for (const d of list) {
      const id = d.metadata.labels?.[LABEL_KUBERNETES_ID];
      if (!id) continue;
      const k = workloadKey(d.metadata.namespace ?? '', id);
      const same = map.get(k);
      if (same) same.push(d);
      else map.set(k, [d]);
    }
    return map;
  }

  /**
   * Per cluster, the watched Deployments that carry a Kubernetes id;
   * answers a service's workload from them. A
   * cluster that fails makes its services' readiness unknown, with why.
   */
  private async workloadsByCluster(
    clusters: Map<string, Set<string>>,
    readAt: (at: number) => void,
  ): Promise<
    Map<string, (namespace: string, id: string, image?: string) => Workload>
  > {
    const out = new Map<
      string,
      (namespace: string, id: string, image?: string) => Workload
    >();
    await Promise.all(
      [...clusters].map(async ([name, namespaces]) => {
        try {
          // Current to the cluster's last event: the watch needs no cache.
          const byService = await this.listWorkloads(name, namespaces);
          readAt(Date.now());
          out.set(name, (namespace, id, image) => {
            const deployments = byService.get(workloadKey(namespace, id)) ?? [];
            const { phase, replicas, problems, revision } =
              computeRolloutStatus(deployments, [], [], image);
            return {
              phase,
              replicas,
              problems,
              ...(revision !== undefined ? { revision } : {}),
            };
          });
        } catch (e) {
          const message = (e as Error).message;
          out.set(name, () => ({
            phase: 'Unknown',
            problems: [],
            error: { reason: (e as Error).name ?? 'Error', message },
          }));
        }
      }),
    );
    return out;
  }
}

const VALUE_SIGNALS = [
  'requestRate',
  'errorRate',
  'latencyP95',
  'latencyMean',
  'drift',
  'readyRatio',
] as const;

/** An environment's judged signals as the overview shows them: status, the worst, the values. */
function summarize(result: {
  signals: SignalHealth[];
  status: HealthStatus;
  worst?: SignalHealth['signal'];
}): Pick<EnvironmentHealthSummary, 'status' | 'worst' | 'reason' | 'values'> {
  const values: SignalValues = {};
  for (const s of result.signals) {
    if (
      s.value !== undefined &&
      (VALUE_SIGNALS as readonly string[]).includes(s.signal)
    )
      values[s.signal as (typeof VALUE_SIGNALS)[number]] = s.value;
  }
  const telling = result.worst
    ? result.signals.find(s => s.signal === result.worst)
    : result.signals.find(s => s.status === result.status && s.reason);
  const reason = result.status === 'ok' ? undefined : telling?.reason;
  return {
    status: result.status,
    ...(result.worst ? { worst: result.worst } : {}),
    ...(reason ? { reason } : {}),
    values,
  };
}
