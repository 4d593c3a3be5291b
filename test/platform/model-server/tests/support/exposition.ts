/**
 * Strict parser for the Prometheus text exposition format 0.0.4, used by the
 * tests to check that /metrics is well-formed. Throws on any violation.
 */

export type MetricType =
  | 'counter'
  | 'gauge'
  | 'histogram'
  | 'summary'
  | 'untyped';

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface MetricFamily {
  readonly name: string;
  type: MetricType;
  help: string | undefined;
  readonly samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*';
const TYPES: readonly string[] = [
  'counter',
  'gauge',
  'histogram',
  'summary',
  'untyped',
];

export function parseExposition(text: string): Map<string, MetricFamily> {
  if (text.length > 0 && !text.endsWith('\n'))
    throw new Error('exposition must end with a newline');
  const families = new Map<string, MetricFamily>();
  const closed = new Set<string>();
  let current: MetricFamily | undefined;

  const family = (name: string, lineNo: number): MetricFamily => {
    if (current?.name === name) return current;
    if (closed.has(name) || families.has(name))
      throw new Error(
        `line ${lineNo}: samples/metadata of ${name} are not contiguous`,
      );
    if (current) closed.add(current.name);
    current = { name, type: 'untyped', help: undefined, samples: [] };
    families.set(name, current);
    return current;
  };

  text.split('\n').forEach((line, i) => {
    const lineNo = i + 1;
    if (line === '') return;
    if (line.startsWith('#')) {
      const meta = new RegExp(`^# (HELP|TYPE) (${NAME})(?: (.*))?$`).exec(line);
      if (!meta) return; // plain comment
      const [, kind, name, rest] = meta as unknown as [
        string,
        string,
        string,
        string | undefined,
      ];
      const fam = family(name, lineNo);
      if (kind === 'HELP') {
        if (fam.help !== undefined)
          throw new Error(`line ${lineNo}: duplicate HELP for ${name}`);
        fam.help = unescape(rest ?? '', false);
      } else {
        if (fam.samples.length > 0)
          throw new Error(`line ${lineNo}: TYPE for ${name} after its samples`);
        if (!TYPES.includes(rest ?? ''))
          throw new Error(`line ${lineNo}: unknown TYPE ${rest}`);
        fam.type = rest as MetricType;
      }
      return;
    }
    const sample = parseSample(line, lineNo);
    const base = familyName(sample.name, current);
    family(base, lineNo).samples.push(sample);
  });

  for (const fam of families.values()) validateFamily(fam);
  return families;
}

function familyName(
  sampleName: string,
  current: MetricFamily | undefined,
): string {
  if (current && (current.type === 'histogram' || current.type === 'summary')) {
    for (const suffix of ['_bucket', '_sum', '_count']) {
      if (sampleName === current.name + suffix) return current.name;
    }
  }
  return sampleName;
}

function parseSample(line: string, lineNo: number): Sample {
  const head = new RegExp(`^(${NAME})`).exec(line);
  if (!head)
    throw new Error(`line ${lineNo}: invalid metric name in "${line}"`);
  const name = head[1]!;
  let pos = name.length;
  const labels: Record<string, string> = {};
  if (line[pos] === '{') {
    pos += 1;
    while (line[pos] !== '}') {
      const labelMatch = new RegExp(`^(${LABEL})="`).exec(line.slice(pos));
      if (!labelMatch)
        throw new Error(`line ${lineNo}: invalid label at column ${pos + 1}`);
      const labelName = labelMatch[1]!;
      pos += labelMatch[0].length;
      let raw = '';
      while (line[pos] !== '"') {
        if (pos >= line.length)
          throw new Error(`line ${lineNo}: unterminated label value`);
        if (line[pos] === '\\') {
          const next = line[pos + 1];
          if (next !== '\\' && next !== '"' && next !== 'n')
            throw new Error(`line ${lineNo}: invalid escape \\${next}`);
          raw += line.slice(pos, pos + 2);
          pos += 2;
        } else {
          raw += line[pos];
          pos += 1;
        }
      }
      pos += 1;
      if (labelName in labels)
        throw new Error(`line ${lineNo}: duplicate label ${labelName}`);
      labels[labelName] = unescape(raw, true);
      if (line[pos] === ',') pos += 1;
      else if (line[pos] !== '}')
        throw new Error(`line ${lineNo}: expected , or } at column ${pos + 1}`);
    }
    pos += 1;
  }
  const rest = line.slice(pos);
  const valueMatch = /^ (\S+)(?: (-?\d+))?$/.exec(rest);
  if (!valueMatch)
    throw new Error(
      `line ${lineNo}: expected " <value> [timestamp]" after the labels, got "${rest}"`,
    );
  return { name, labels, value: parseValue(valueMatch[1]!, lineNo) };
}

function parseValue(raw: string, lineNo: number): number {
  if (raw === '+Inf') return Infinity;
  if (raw === '-Inf') return -Infinity;
  if (raw === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw))
    throw new Error(`line ${lineNo}: invalid value ${raw}`);
  return Number(raw);
}

function unescape(text: string, quoted: boolean): string {
  return text.replace(/\\(.)/g, (all, c: string) => {
    if (c === '\\') return '\\';
    if (c === 'n') return '\n';
    if (quoted && c === '"') return '"';
    return all;
  });
}

function validateFamily(fam: MetricFamily): void {
  if (fam.type === 'counter') {
    for (const s of fam.samples) {
      if (s.name !== fam.name)
        throw new Error(`${fam.name}: unexpected sample ${s.name}`);
      if (!(s.value >= 0))
        throw new Error(
          `${fam.name}: counter value ${s.value} is negative or NaN`,
        );
    }
  }
  if (fam.type !== 'histogram') return;
  const series = new Map<
    string,
    { buckets: [number, number][]; sum?: number; count?: number }
  >();
  for (const s of fam.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const entry = series.get(key) ?? { buckets: [] };
    series.set(key, entry);
    if (s.name === `${fam.name}_bucket`) {
      if (le === undefined) throw new Error(`${fam.name}: bucket without le`);
      entry.buckets.push([parseValue(le, 0), s.value]);
    } else if (s.name === `${fam.name}_sum`) entry.sum = s.value;
    else if (s.name === `${fam.name}_count`) entry.count = s.value;
    else throw new Error(`${fam.name}: unexpected sample ${s.name}`);
  }
  for (const [key, entry] of series) {
    const last = entry.buckets[entry.buckets.length - 1];
    if (!last || last[0] !== Infinity)
      throw new Error(`${fam.name}${key}: missing le="+Inf" bucket`);
    entry.buckets.forEach(([le, count], i) => {
      const prev = entry.buckets[i - 1];
      if (prev && !(le > prev[0]))
        throw new Error(`${fam.name}${key}: le values not increasing`);
      if (prev && count < prev[1])
        throw new Error(`${fam.name}${key}: bucket counts not cumulative`);
    });
    if (entry.count === undefined || entry.sum === undefined)
      throw new Error(`${fam.name}${key}: missing _sum or _count`);
    if (entry.count !== last[1])
      throw new Error(
        `${fam.name}${key}: _count ${entry.count} != +Inf bucket ${last[1]}`,
      );
  }
}

/** Value of the sample whose labels include `labels`; undefined if absent. */
export function sampleValue(
  families: Map<string, MetricFamily>,
  sampleName: string,
  labels: Readonly<Record<string, string>> = {},
): number | undefined {
  for (const fam of families.values()) {
    for (const s of fam.samples) {
      if (
        s.name === sampleName &&
        Object.entries(labels).every(([k, v]) => s.labels[k] === v)
      )
        return s.value;
    }
  }
  return undefined;
}
