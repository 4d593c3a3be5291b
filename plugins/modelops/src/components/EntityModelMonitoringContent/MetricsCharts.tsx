import {
  InfoCard,
  Link,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import {
  AnalysisWindow,
  DeployMarker,
  MetricsResponse,
  SignalSeries,
} from '@modelops/plugin-modelops-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import ButtonGroup from '@material-ui/core/ButtonGroup';
import Checkbox from '@material-ui/core/Checkbox';
import FormControlLabel from '@material-ui/core/FormControlLabel';
import Grid from '@material-ui/core/Grid';
import MenuItem from '@material-ui/core/MenuItem';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import { useTheme } from '@material-ui/core/styles';
import { useEffect, useMemo, useState } from 'react';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import useMeasure from 'react-use/esm/useMeasure';
import {
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ReferenceArea,
  ReferenceLine,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { modelOpsApiRef } from '../../api';
import { formatValue } from '../common';

/** The ranges the picker offers, in seconds. */
export const RANGES = [
  { label: '15m', seconds: 15 * 60 },
  { label: '1h', seconds: 3600 },
  { label: '6h', seconds: 6 * 3600 },
  { label: '24h', seconds: 24 * 3600 },
  { label: '7d', seconds: 7 * 24 * 3600 },
] as const;

/** How often auto-refresh reads the range again. */
export const AUTO_REFRESH_MS = 30_000;

/** The charts, each of one or more signals of the answer. */
const CHARTS: {
  title: string;
  signals: SignalSeries['signal'][];
}[] = [
  { title: 'Traffic', signals: ['requestRate'] },
  { title: 'Error rate', signals: ['errorRate'] },
  {
    title: 'Latency',
    signals: ['latencyP50', 'latencyP95', 'latencyP99', 'latencyMean'],
  },
  { title: 'Drift', signals: ['featureDrift', 'predictionDrift'] },
  { title: 'Predictions by class', signals: ['predictionsByClass'] },
  { title: 'Replicas (pods answering scrapes)', signals: ['replicas'] },
];

const SERIES_NAMES: Record<SignalSeries['signal'], string> = {
  requestRate: 'requests',
  errorRate: 'errors',
  latencyP50: 'p50',
  latencyP95: 'p95',
  latencyP99: 'p99',
  latencyMean: 'mean',
  predictionsByClass: 'class',
  featureDrift: 'feature',
  predictionDrift: 'predictions',
  replicas: 'pods',
};

/** A series' name in the legend: its signal, and what tells it from its siblings. */
function seriesName(signal: SignalSeries, labels: Record<string, string>) {
  const told = Object.values(labels);
  if (
    signal.signal === 'featureDrift' ||
    signal.signal === 'predictionsByClass'
  )
    return told.join(', ') || SERIES_NAMES[signal.signal];
  return told.length
    ? `${SERIES_NAMES[signal.signal]} (${told.join(', ')})`
    : SERIES_NAMES[signal.signal];
}

/** "r3 0.1.2 by alice": what a deploy marker says on the chart. */
export function markerLabel(d: DeployMarker): string {
  const tag = d.image.includes(':') ? d.image.split(':').pop() : d.image;
  return `${d.revision !== undefined ? `r${d.revision} ` : ''}${tag}${
    d.automatic ? ' (automatic rollback)' : ''
  }`;
}

/** "analysis r7: failed": what an analysis window says on the chart. */
export function analysisLabel(a: AnalysisWindow): string {
  return `analysis r${a.revision}: ${a.status}`;
}

function timeLabel(t: number, rangeSeconds: number): string {
  const d = new Date(t * 1000);
  const time = d.toLocaleTimeString(undefined, {
    hour: '2-digit',
    minute: '2-digit',
  });
  if (rangeSeconds <= 24 * 3600) return time;
  const day = d.toLocaleDateString(undefined, {
    month: 'short',
    day: 'numeric',
  });
  return `${day} ${time}`;
}

const PALETTE = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#17becf',
  '#bcbd22',
];

function Chart(props: {
  title: string;
  signals: SignalSeries[];
  deploys: DeployMarker[];
  analyses: AnalysisWindow[];
  range: { start: number; end: number; seconds: number };
  selector?: string;
}) {
  const { title, signals, deploys, analyses, range } = props;
  const theme = useTheme();
  const [ref, { width }] = useMeasure<HTMLDivElement>();
  // One line per series, and one row per time with every line's value.
  const { lines, data } = useMemo(() => {
    const all = signals.flatMap(s =>
      s.series.map(series => ({
        key: `${s.signal}:${JSON.stringify(series.labels)}`,
        name: seriesName(s, series.labels),
        points: series.points,
      })),
    );
    const byTime = new Map<number, Record<string, number>>();
    for (const l of all)
      for (const [t, v] of l.points) {
        const row = byTime.get(t) ?? { t };
        row[l.key] = v;
        byTime.set(t, row);
      }
    return {
      lines: all,
      data: [...byTime.values()].sort((a, b) => a.t - b.t),
    };
  }, [signals]);
  const unit = signals[0]?.unit ?? 'ratio';
  const threshold = signals.find(s => s.critical !== undefined);
  const reasons = signals
    .filter(s => !s.series.length && s.reason)
    .map(s => s.reason!)
    // "no series match ..." is said once per chart, not per percentile.
    .filter((r, i, all) => all.indexOf(r) === i);
  // How computed series were worked out (drift from input histograms).
  const notes = signals.flatMap(s =>
    s.series.length && s.note ? [s.note] : [],
  );
  return (
    <InfoCard title={title} variant="gridItem">
      <div ref={ref} aria-label={`${title} chart`}>
        {lines.length === 0 ? (
          <Typography variant="body2" color="textSecondary">
            {reasons.join('; ') ||
              `No series match ${props.selector ?? 'the service'}`}
          </Typography>
        ) : (
          <LineChart
            width={Math.max(width, 280)}
            height={220}
            data={data}
            margin={{ top: 16, right: 16, bottom: 0, left: 8 }}
          >
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis
              dataKey="t"
              type="number"
              scale="time"
              domain={[range.start, range.end]}
              tickFormatter={t => timeLabel(t, range.seconds)}
            />
            <YAxis
              width={72}
              tickFormatter={v => formatValue(unit, v)}
              domain={[
                0,
                (max: number) =>
                  threshold?.critical !== undefined
                    ? Math.max(max, threshold.critical * 1.1)
                    : max,
              ]}
            />
            <Tooltip
              labelFormatter={t => new Date(Number(t) * 1000).toLocaleString()}
              formatter={(v: number) => formatValue(unit, v)}
            />
            <Legend />
            {lines.map((l, i) => (
              <Line
                key={l.key}
                dataKey={l.key}
                name={l.name}
                stroke={PALETTE[i % PALETTE.length]}
                dot={false}
                isAnimationActive={false}
                connectNulls
              />
            ))}
            {threshold?.critical !== undefined && (
              <ReferenceLine
                y={threshold.critical}
                stroke={theme.palette.error.main}
                strokeDasharray="6 3"
                label={{
                  value: `SLO ${formatValue(unit, threshold.critical)}`,
                  position: 'insideTopRight',
                  fill: theme.palette.error.main,
                  fontSize: 11,
                }}
              />
            )}
            {analyses.map(a => (
              <ReferenceArea
                key={`analysis:${a.deploymentId}`}
                x1={Math.max(range.start, Date.parse(a.start) / 1000)}
                x2={Math.min(range.end, Date.parse(a.end) / 1000)}
                fill={
                  a.status === 'failed'
                    ? theme.palette.error.main
                    : theme.palette.info.main
                }
                fillOpacity={0.08}
                label={{
                  value: analysisLabel(a),
                  position: 'insideBottomLeft',
                  fontSize: 10,
                  fill: theme.palette.text.secondary,
                }}
              />
            ))}
            {deploys.map(d => (
              <ReferenceLine
                key={d.deploymentId}
                x={Date.parse(d.time) / 1000}
                stroke={theme.palette.text.secondary}
                strokeDasharray="2 2"
                label={{
                  value: markerLabel(d),
                  position: 'insideTopLeft',
                  fontSize: 10,
                  fill: theme.palette.text.secondary,
                }}
              />
            ))}
          </LineChart>
        )}
        {lines.length > 0 && reasons.length + notes.length > 0 && (
          <Typography variant="caption" color="textSecondary">
            {[...notes, ...reasons].join('; ')}
          </Typography>
        )}
      </div>
    </InfoCard>
  );
}

/** The deploys of the range, each linking to the deployment history. */
function DeployList(props: { deploys: DeployMarker[] }) {
  if (!props.deploys.length)
    return (
      <Typography variant="body2" color="textSecondary">
        No deploys in this range.
      </Typography>
    );
  return (
    <Box component="ul" aria-label="Deploys in this range" m={0} pl={2}>
      {props.deploys.map(d => (
        <li key={d.deploymentId}>
          <Typography variant="body2">
            {new Date(d.time).toLocaleString()}:{' '}
            <Link to="../model-deployment">
              {d.automatic ? 'automatic rollback' : d.action}
              {d.revision !== undefined ? ` revision ${d.revision}` : ''}
            </Link>{' '}
            of {d.image}
            {d.automatic ? '' : ` by ${d.requestedBy}`} ({d.status})
            {d.reason && (
              <Typography variant="body2" color="error" component="span">
                {' '}
                {d.reason}
              </Typography>
            )}
          </Typography>
        </li>
      ))}
    </Box>
  );
}

/**
 * Charts of the service's signals in one environment over a range, with a
 * marker for every deploy of the range and the SLO threshold as a line.
 */
export function MetricsCharts(props: {
  entityRef: string;
  environments: string[];
}) {
  const api = useApi(modelOpsApiRef);
  const [environment, setEnvironment] = useState(props.environments[0]);
  const [rangeLabel, setRangeLabel] =
    useState<(typeof RANGES)[number]['label']>('1h');
  const [autoRefresh, setAutoRefresh] = useState(false);
  const seconds = RANGES.find(r => r.label === rangeLabel)!.seconds;
  const { value, loading, error, retry } = useAsyncRetry(async (): Promise<
    MetricsResponse | undefined
  > => {
    if (!environment) return undefined;
    const end = new Date();
    return api.getMetrics({
      entityRef: props.entityRef,
      environment,
      start: new Date(end.getTime() - seconds * 1000).toISOString(),
      end: end.toISOString(),
    });
  }, [api, props.entityRef, environment, seconds]);
  useEffect(() => {
    if (!autoRefresh) return undefined;
    const timer = setInterval(() => retry(), AUTO_REFRESH_MS);
    return () => clearInterval(timer);
  }, [autoRefresh, retry]);

  if (!environment)
    return (
      <Typography variant="body2">
        No environments are configured (modelops.environments).
      </Typography>
    );
  const range = value && {
    start: Date.parse(value.start) / 1000,
    end: Date.parse(value.end) / 1000,
    seconds,
  };
  return (
    <Grid container spacing={2}>
      <Grid item xs={12}>
        <Box
          display="flex"
          alignItems="center"
          flexWrap="wrap"
          style={{ gap: 16 }}
        >
          <TextField
            select
            id="modelops-metrics-environment"
            label="Environment"
            value={environment}
            onChange={e => setEnvironment(e.target.value)}
            variant="outlined"
            size="small"
            style={{ minWidth: 160 }}
          >
            {props.environments.map(e => (
              <MenuItem key={e} value={e}>
                {e}
              </MenuItem>
            ))}
          </TextField>
          <ButtonGroup size="small" aria-label="Range">
            {RANGES.map(r => (
              <Button
                key={r.label}
                aria-pressed={r.label === rangeLabel}
                variant={r.label === rangeLabel ? 'contained' : 'outlined'}
                color={r.label === rangeLabel ? 'primary' : 'default'}
                onClick={() => setRangeLabel(r.label)}
              >
                {r.label}
              </Button>
            ))}
          </ButtonGroup>
          <FormControlLabel
            control={
              <Checkbox
                checked={autoRefresh}
                onChange={e => setAutoRefresh(e.target.checked)}
                color="primary"
              />
            }
            label="Auto-refresh"
          />
          {value && (
            <Typography variant="caption" color="textSecondary">
              {value.selector} · a point every {value.step} s
            </Typography>
          )}
        </Box>
      </Grid>
      {loading && !value && (
        <Grid item xs={12}>
          <Progress />
        </Grid>
      )}
      {error && (
        <Grid item xs={12}>
          <ResponseErrorPanel error={error} />
        </Grid>
      )}
      {value &&
        range &&
        CHARTS.map(c => {
          const signals = value.signals.filter(s =>
            c.signals.includes(s.signal),
          );
          if (!signals.length) return null;
          return (
            <Grid item xs={12} md={6} key={c.title}>
              <Chart
                title={c.title}
                signals={signals}
                deploys={value.deploys}
                analyses={value.analyses ?? []}
                range={range}
                selector={value.selector}
              />
            </Grid>
          );
        })}
      {value && (
        <Grid item xs={12}>
          <InfoCard title="Deploys in this range">
            <DeployList deploys={value.deploys} />
          </InfoCard>
        </Grid>
      )}
    </Grid>
  );
}
