import { Knex } from 'knex';
import { InstantSample } from '../metrics/PrometheusClient';

/** The reference distribution of one revision's inputs, as stored. */
export interface DriftReference {
  entityRef: string;
  environment: string;
  revision: number;
  /** Window bounds in ms since the epoch; the start is the deploy time. */
  windowStart: number;
  windowEnd: number;
  /** The window spans the configured reference hours: it never changes again. */
  complete: boolean;
  /** Bucket counts per feature, labelled `feature` and `le`. */
  histograms: InstantSample[];
  computedAt: number;
}

export type DriftReferenceKey = Pick<
  DriftReference,
  'entityRef' | 'environment' | 'revision'
>;

export const driftReferenceKey = (k: DriftReferenceKey) =>
  `${k.entityRef}\u0000${k.environment}\u0000${k.revision}`;

/** Keeps reference distributions so that each is read from Prometheus once. */
export interface DriftReferenceStore {
  /** The stored references of these keys, by `driftReferenceKey`. */
  get(keys: readonly DriftReferenceKey[]): Promise<Map<string, DriftReference>>;
  /** Stores a reference, replacing the one of the same key. */
  put(reference: DriftReference): Promise<void>;
}

const TABLE = 'modelops_drift_references';
/** Entity refs per IN list: far below every database's parameter limit. */
const CHUNK = 500;

interface Row {
  entity_ref: string;
  environment: string;
  revision: number;
  window_start: Date | string | number;
  window_end: Date | string | number;
  complete: boolean | number;
  histograms: string;
  computed_at: Date | string | number;
}

const ms = (v: Date | string | number) =>
  v instanceof Date ? v.getTime() : new Date(v).getTime();

export class DatabaseDriftReferenceStore implements DriftReferenceStore {
  constructor(private readonly db: Knex) {}

  async get(
    keys: readonly DriftReferenceKey[],
  ): Promise<Map<string, DriftReference>> {
    const wanted = new Set(keys.map(driftReferenceKey));
    const refs = [...new Set(keys.map(k => k.entityRef))];
    const out = new Map<string, DriftReference>();
    for (let i = 0; i < refs.length; i += CHUNK) {
      const rows: Row[] = await this.db<Row>(TABLE).whereIn(
        'entity_ref',
        refs.slice(i, i + CHUNK),
      );
      for (const row of rows) {
        const reference: DriftReference = {
          entityRef: row.entity_ref,
          environment: row.environment,
          revision: Number(row.revision),
          windowStart: ms(row.window_start),
          windowEnd: ms(row.window_end),
          complete: Boolean(row.complete),
          histograms: (
            JSON.parse(row.histograms) as {
              feature: string;
              le: string;
              value: number;
            }[]
          ).map(h => ({
            metric: { feature: h.feature, le: h.le },
            value: h.value,
          })),
          computedAt: ms(row.computed_at),
        };
        const key = driftReferenceKey(reference);
        if (wanted.has(key)) out.set(key, reference);
      }
    }
    return out;
  }

  async put(reference: DriftReference): Promise<void> {
    const histograms = reference.histograms.map(s => ({
      feature: s.metric.feature ?? '',
      le: s.metric.le ?? '',
      value: s.value,
    }));
    await this.db<Row>(TABLE)
      .insert({
        entity_ref: reference.entityRef,
        environment: reference.environment,
        revision: reference.revision,
        window_start: new Date(reference.windowStart),
        window_end: new Date(reference.windowEnd),
        complete: reference.complete,
        histograms: JSON.stringify(histograms),
        computed_at: new Date(reference.computedAt),
      })
      .onConflict(['entity_ref', 'environment', 'revision'])
      .merge();
  }
}
