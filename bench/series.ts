// The health benchmark's series: `generate <file> <n>` writes, in OpenMetrics
// for `promtool tsdb create-blocks-from openmetrics`, the series of the n
// generated model services (bench/catalog.ts) in both clusters: their
// runtime's request counters and latency histograms, a failure counter for
// one in ten, and drift gauges, a sample a minute from 10 minutes before
// now to 50 minutes after (an instant query at any time of the run sees a
// full rate window). Values differ per service, so some are judged warning
// or critical, as in a real catalog.
import { createWriteStream } from 'node:fs';

const STEP = 60;
const FROM = Math.floor(Date.now() / 1000 / STEP) * STEP - 10 * 60;
const TO = FROM + 60 * 60;
const CLUSTERS = ['dev', 'prod'];

interface Family {
  name: string;
  type: 'counter' | 'gauge' | 'histogram';
  series: {
    sample: string;
    labels: string;
    perStep: number;
    gauge?: boolean;
  }[];
}

function families(n: number): Family[] {
  const out: Record<string, Family> = {};
  const family = (name: string, type: Family['type']) =>
    (out[name] ??= { name, type, series: [] });
  for (let i = 0; i < n; i++) {
    const id = `svc-${String(i).padStart(5, '0')}`;
    const kserve = i % 2 === 1;
    for (const cluster of CLUSTERS) {
      const base = `backstage_io_kubernetes_id="${id}",cluster="${cluster}",namespace="models"`;
      // Requests a minute, and how they split over the latency buckets.
      // The shares slower than 100 ms, 250 ms and 500 ms: p95 from about
      // 180 ms to 310 ms, against p95 SLOs of 200 to 400 ms.
      const perMinute = 60 * (1 + (i % 7));
      const over100 = 0.1 + (i % 4) * 0.05;
      const over250 = 0.01 + (i % 6) * 0.01;
      const buckets: [string, number][] = [
        ['0.1', (1 - over100) * perMinute],
        ['0.25', (1 - over250) * perMinute],
        ['0.5', (1 - over250 / 3) * perMinute],
        ['+Inf', perMinute],
      ];
      const histogram = kserve
        ? 'request_predict_seconds'
        : 'http_request_duration_seconds';
      const counter = kserve ? 'modelops_requests' : 'http_requests';
      const h = family(histogram, 'histogram');
      for (const [le, count] of buckets)
        h.series.push({
          sample: `${histogram}_bucket`,
          labels: `${base},le="${le}"`,
          perStep: count,
        });
      h.series.push({
        sample: `${histogram}_count`,
        labels: base,
        perStep: perMinute,
      });
      h.series.push({
        sample: `${histogram}_sum`,
        labels: base,
        perStep: perMinute * 0.08,
      });
      const c = family(counter, 'counter');
      const failed = i % 10 === 0 ? perMinute * (0.002 + (i % 30) * 0.001) : 0;
      c.series.push({
        sample: `${counter}_total`,
        labels: `${base},code="200"`,
        perStep: perMinute - failed,
      });
      if (failed)
        c.series.push({
          sample: `${counter}_total`,
          labels: `${base},code="500"`,
          perStep: failed,
        });
      const psi = family('modelops_feature_psi', 'gauge');
      psi.series.push({
        sample: 'modelops_feature_psi',
        labels: `${base},feature="amount"`,
        perStep: 0.02 + (i % 13) / 50,
        gauge: true,
      });
      psi.series.push({
        sample: 'modelops_feature_psi',
        labels: `${base},feature="country"`,
        perStep: 0.03,
        gauge: true,
      });
      family('modelops_prediction_psi', 'gauge').series.push({
        sample: 'modelops_prediction_psi',
        labels: base,
        perStep: 0.01,
        gauge: true,
      });
    }
  }
  return Object.values(out);
}

async function generate(file: string, n: number) {
  const out = createWriteStream(file);
  let buffer = '';
  let lines = 0;
  const write = async (line: string) => {
    buffer += `${line}\n`;
    lines++;
    if (buffer.length > 1 << 20) {
      if (!out.write(buffer)) await new Promise(r => out.once('drain', r));
      buffer = '';
    }
  };
  let series = 0;
  for (const f of families(n)) {
    await write(`# TYPE ${f.name} ${f.type}`);
    for (const s of f.series) {
      series++;
      let value = 0;
      for (let t = FROM; t <= TO; t += STEP) {
        if (s.gauge) value = s.perStep;
        else if (t > FROM) value += s.perStep;
        await write(
          `${s.sample}{${s.labels}} ${Math.round(value * 1000) / 1000} ${t}`,
        );
      }
    }
  }
  await write('# EOF');
  out.end(buffer);
  await new Promise(r => out.once('finish', r));
  console.log(
    `series for ${n} services in ${
      CLUSTERS.length
    } clusters: ${series} series, ${lines} lines, ${new Date(
      FROM * 1000,
    ).toISOString()} to ${new Date(TO * 1000).toISOString()}`,
  );
}

const [command, file, n] = process.argv.slice(2);
if (command === 'generate' && file && n) await generate(file, Number(n));
else {
  console.error('usage: series.ts generate <file> <n>');
  process.exit(2);
}
