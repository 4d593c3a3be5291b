/**
 * Minimal Prometheus client: counters, gauges and histograms with labels,
 * rendered in the text exposition format 0.0.4.
 */

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Default buckets of the official client libraries (seconds). */
export const DEFAULT_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
];

export type Labels = Readonly<Record<string, string>>;

type MetricType = 'counter' | 'gauge' | 'histogram';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

interface Collectable {
  readonly name: string;
  render(): string;
}

export class Registry {
  readonly #metrics = new Map<string, Collectable>();
  readonly #collectHooks: (() => void)[] = [];

  register<T extends Collectable>(metric: T): T {
    if (this.#metrics.has(metric.name))
      throw new Error(`metric ${metric.name} is already registered`);
    this.#metrics.set(metric.name, metric);
    return metric;
  }

  /** Runs before every scrape, e.g. to refresh gauges computed on demand. */
  onCollect(hook: () => void): void {
    this.#collectHooks.push(hook);
  }

  render(): string {
    for (const hook of this.#collectHooks) hook();
    return [...this.#metrics.values()].map(m => m.render()).join('');
  }
}

abstract class Metric<Child> implements Collectable {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  protected readonly children = new Map<
    string,
    { labels: Labels; value: Child }
  >();

  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    if (!METRIC_NAME.test(name))
      throw new Error(`invalid metric name: ${name}`);
    for (const label of labelNames) {
      if (!LABEL_NAME.test(label) || label.startsWith('__'))
        throw new Error(`invalid label name: ${label}`);
    }
    this.name = name;
    this.help = help;
    this.labelNames = labelNames;
  }

  protected abstract readonly type: MetricType;
  protected abstract create(labels: Labels): Child;
  protected abstract renderChild(labels: Labels, value: Child): string;

  protected child(labels: Labels): Child {
    const keys = Object.keys(labels);
    if (
      keys.length !== this.labelNames.length ||
      !this.labelNames.every(l => l in labels)
    ) {
      throw new Error(
        `${this.name} expects labels [${this.labelNames.join(
          ', ',
        )}], got [${keys.join(', ')}]`,
      );
    }
    const key = this.labelNames.map(l => labels[l]).join('\u0000');
    let entry = this.children.get(key);
    if (!entry) {
      const ordered: Record<string, string> = {};
      for (const l of this.labelNames) ordered[l] = String(labels[l]);
      entry = { labels: ordered, value: this.create(ordered) };
      this.children.set(key, entry);
    }
    return entry.value;
  }

  render(): string {
    let out = `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${
      this.name
    } ${this.type}\n`;
    for (const { labels, value } of this.children.values())
      out += this.renderChild(labels, value);
    return out;
  }
}

export class Counter extends Metric<{ value: number }> {
  protected readonly type = 'counter';

  protected create(): { value: number } {
    return { value: 0 };
  }

  /** Makes the series visible with value 0 before the first increment. */
  init(labels: Labels = {}): void {
    this.child(labels);
  }

  inc(labels: Labels = {}, amount = 1): void {
    if (!(amount >= 0))
      throw new Error(`counter ${this.name} can only increase`);
    this.child(labels).value += amount;
  }

  get(labels: Labels = {}): number {
    return this.child(labels).value;
  }

  protected renderChild(labels: Labels, child: { value: number }): string {
    return sample(this.name, labels, child.value);
  }
}

export class Gauge extends Metric<{ value: number }> {
  protected readonly type = 'gauge';

  protected create(): { value: number } {
    return { value: 0 };
  }

  set(labels: Labels, value: number): void {
    this.child(labels).value = value;
  }

  get(labels: Labels = {}): number {
    return this.child(labels).value;
  }

  /** Removes every series, e.g. while a gauge's value is unknown. */
  clear(): void {
    this.children.clear();
  }

  protected renderChild(labels: Labels, child: { value: number }): string {
    return sample(this.name, labels, child.value);
  }
}

interface HistogramChild {
  readonly upperBounds: readonly number[];
  readonly buckets: number[];
  sum: number;
  count: number;
}

export class Histogram extends Metric<HistogramChild> {
  protected readonly type = 'histogram';
  readonly #bounds: (labels: Labels) => readonly number[];

  /**
   * `buckets` are the upper bounds of every series, or a function giving
   * each series its own (e.g. one feature histogram per feature, each on
   * that feature's scale).
   */
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[] = [],
    buckets:
      | readonly number[]
      | ((labels: Labels) => readonly number[]) = DEFAULT_BUCKETS,
  ) {
    super(name, help, labelNames);
    if (labelNames.includes('le'))
      throw new Error('histograms cannot use the label "le"');
    const check = (given: readonly number[]): readonly number[] => {
      const bounds = given.filter(b => b !== Infinity);
      if (
        bounds.length === 0 ||
        bounds.some(
          (b, i) => !Number.isFinite(b) || (i > 0 && b <= bounds[i - 1]!),
        )
      ) {
        throw new Error(
          `histogram ${name} needs finite, strictly increasing buckets`,
        );
      }
      return bounds;
    };
    if (typeof buckets === 'function') {
      this.#bounds = labels => check(buckets(labels));
    } else {
      const fixed = check(buckets);
      this.#bounds = () => fixed;
    }
  }

  protected create(labels: Labels): HistogramChild {
    const upperBounds = this.#bounds(labels);
    return {
      upperBounds,
      buckets: new Array<number>(upperBounds.length).fill(0),
      sum: 0,
      count: 0,
    };
  }

  init(labels: Labels = {}): void {
    this.child(labels);
  }

  observe(labels: Labels, value: number): void {
    const child = this.child(labels);
    // Buckets are stored non-cumulatively and summed up when rendering.
    const index = child.upperBounds.findIndex(bound => value <= bound);
    if (index >= 0) child.buckets[index]! += 1;
    child.sum += value;
    child.count += 1;
  }

  protected renderChild(labels: Labels, child: HistogramChild): string {
    let out = '';
    let cumulative = 0;
    child.upperBounds.forEach((bound, i) => {
      cumulative += child.buckets[i]!;
      out += sample(
        `${this.name}_bucket`,
        { ...labels, le: formatValue(bound) },
        cumulative,
      );
    });
    out += sample(
      `${this.name}_bucket`,
      { ...labels, le: '+Inf' },
      child.count,
    );
    out += sample(`${this.name}_sum`, labels, child.sum);
    out += sample(`${this.name}_count`, labels, child.count);
    return out;
  }
}

function sample(name: string, labels: Labels, value: number): string {
  const pairs = Object.entries(labels).map(
    ([k, v]) => `${k}="${escapeLabelValue(v)}"`,
  );
  return `${name}${
    pairs.length > 0 ? `{${pairs.join(',')}}` : ''
  } ${formatValue(value)}\n`;
}

export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function escapeLabelValue(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
