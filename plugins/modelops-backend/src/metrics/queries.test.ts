import {
  DEFAULT_QUERY_SETS,
  querySetFor,
  renderQuery,
  SIGNALS,
} from './queries';

const matchers = [
  { name: 'cluster', op: '=' as const, value: 'dev' },
  { name: 'backstage_io_kubernetes_id', op: '=' as const, value: 'fraud' },
];
const by = ['backstage_io_kubernetes_id', 'cluster', 'namespace'];

describe('renderQuery', () => {
  it('fills matchers, window and grouping into a template', () => {
    expect(
      renderQuery(DEFAULT_QUERY_SETS.generic.errorRate as string, {
        matchers,
        window: '5m',
        by,
      }),
    ).toBe(
      '(sum by (backstage_io_kubernetes_id, cluster, namespace) (rate(http_requests_total{cluster="dev",backstage_io_kubernetes_id="fraud",code=~"5.."}[5m])) or 0 * sum by (backstage_io_kubernetes_id, cluster, namespace) (rate(http_requests_total{cluster="dev",backstage_io_kubernetes_id="fraud"}[5m]))) / sum by (backstage_io_kubernetes_id, cluster, namespace) (rate(http_requests_total{cluster="dev",backstage_io_kubernetes_id="fraud"}[5m]))',
    );
  });

  it('escapes matcher values, so a hostile value stays inside its string', () => {
    const q = renderQuery('up{$matchers}', {
      matchers: [{ name: 'a', op: '=', value: '"} or vector(1) or up{b="' }],
      window: '1m',
      by,
    });
    expect(q).toBe('up{a="\\"} or vector(1) or up{b=\\""}');
  });

  it.each([
    [{ window: '5m; drop' }, 'invalid rate window'],
    [{ window: '0m' }, 'invalid rate window'],
    [{ by: ['a) or (b'] }, 'invalid group-by label'],
    [{ by: [] }, 'no group-by labels'],
    [{ matchers: [] }, 'no matchers'],
    [
      { matchers: [{ name: 'a', op: '=' as const, value: 'x\ny' }] },
      'control character',
    ],
  ])('refuses %j', (change, message) => {
    expect(() =>
      renderQuery('up{$matchers}', { matchers, window: '5m', by, ...change }),
    ).toThrow(message);
  });

  it('refuses a template that would select every service', () => {
    expect(() =>
      renderQuery('sum(rate(http_requests_total[5m]))', {
        matchers,
        window: '5m',
        by,
      }),
    ).toThrow('selects no service');
  });
});

describe('query sets', () => {
  const entries = Object.entries(DEFAULT_QUERY_SETS).flatMap(([runtime, set]) =>
    SIGNALS.map(signal => [runtime, signal, set[signal]] as const),
  );
  const queries = entries.filter(([, , q]) => typeof q === 'string');
  const reasons = entries.filter(([, , q]) => typeof q !== 'string');

  it.each(queries)('renders %s %s', (_runtime, _signal, q) => {
    expect(renderQuery(q as string, { matchers, window: '5m', by })).toContain(
      'backstage_io_kubernetes_id="fraud"',
    );
  });

  it.each(reasons)('says why %s has no %s', (_runtime, _signal, q) => {
    expect((q as { unavailable: string }).unavailable).toMatch(/\w{10}/);
  });

  it('gives Triton a mean latency and says why it has no percentiles', () => {
    expect(typeof DEFAULT_QUERY_SETS.triton.latencyMean).toBe('string');
    expect(DEFAULT_QUERY_SETS.triton.latencyP95).toEqual({
      unavailable: expect.stringContaining('summaries'),
    });
  });

  it('applies config overrides per runtime and signal', () => {
    const set = querySetFor('kserve', {
      kserve: {
        requestRate: 'sum by ($by) (rate(my_requests{$matchers}[$window]))',
      },
    });
    expect(set.requestRate).toContain('my_requests');
    expect(set.errorRate).toBe(DEFAULT_QUERY_SETS.kserve.errorRate);
  });
});
