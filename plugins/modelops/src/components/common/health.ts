import { stringifyEntityRef } from '@backstage/catalog-model';
import { useApi } from '@backstage/core-plugin-api';
import { useEntity } from '@backstage/plugin-catalog-react';
import { SignalHealth } from '@modelops/plugin-modelops-common';
import { useEffect } from 'react';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { modelOpsApiRef } from '../../api';

/** How often the health card and the Monitoring tab's signals are read again. */
export const HEALTH_REFRESH_MS = 60_000;

/** Loads the current entity's health per environment. */
export function useEntityHealth() {
  const { entity } = useEntity();
  const api = useApi(modelOpsApiRef);
  const entityRef = stringifyEntityRef(entity);
  const state = useAsyncRetry(
    () => api.getHealth({ entityRef }),
    [api, entityRef],
  );
  // Read again every minute; what was shown stays while the next answer loads.
  const { retry } = state;
  useEffect(() => {
    const timer = setInterval(() => retry(), HEALTH_REFRESH_MS);
    return () => clearInterval(timer);
  }, [retry]);
  return { entityRef, ...state };
}

/** What a signal is called on screen. */
export const SIGNAL_LABELS: Record<SignalHealth['signal'], string> = {
  requestRate: 'traffic',
  errorRate: 'error rate',
  latencyP95: 'p95 latency',
  latencyP99: 'p99 latency',
  latencyMean: 'mean latency',
  drift: 'drift',
  readyRatio: 'ready pods',
};

/** A value in the signal's unit, as people read it: ms, %, req/s, PSI. */
export function formatValue(
  unit: SignalHealth['unit'] | 'pods',
  value: number | undefined,
): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  switch (unit) {
    case 'seconds':
      return value < 1
        ? `${Math.round(value * 1000)} ms`
        : `${value.toFixed(2)} s`;
    case 'ratio':
      return `${(value * 100).toFixed(value < 0.1 ? 2 : 1)} %`;
    case 'requestsPerSecond':
      return `${value.toFixed(value < 10 ? 1 : 0)} req/s`;
    case 'psi':
      return `PSI ${value.toFixed(2)}`;
    case 'pods':
      return `${Math.round(value)} ${Math.round(value) === 1 ? 'pod' : 'pods'}`;
    default:
      return String(value);
  }
}

/** One line for a signal: "p95 latency 312 ms (SLO 250 ms)", "drift PSI 0.31 (feature amount; SLO 0.20)". */
export function describeSignal(s: SignalHealth): string {
  const parts = [`${SIGNAL_LABELS[s.signal]} ${formatValue(s.unit, s.value)}`];
  const notes: string[] = [];
  if (s.detail) notes.push(s.detail);
  if (s.critical !== undefined && s.signal !== 'readyRatio')
    notes.push(`SLO ${formatValue(s.unit, s.critical).replace('PSI ', '')}`);
  if (notes.length) parts.push(`(${notes.join('; ')})`);
  return parts.join(' ');
}
