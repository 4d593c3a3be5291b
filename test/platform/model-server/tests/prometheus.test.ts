import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter, Gauge, Histogram, Registry } from '../src/prometheus.ts';
import { parseExposition, sampleValue } from './support/exposition.ts';

describe('prometheus registry', () => {
  it('renders counters, gauges and cumulative histograms', () => {
    const registry = new Registry();
    const counter = registry.register(
      new Counter('jobs_total', 'Jobs done', ['code']),
    );
    const gauge = registry.register(
      new Gauge('temperature', 'Current\ntemperature \\ C', ['room']),
    );
    const histogram = registry.register(
      new Histogram('latency_seconds', 'Latency', ['route'], [0.1, 0.5, 1]),
    );
    counter.inc({ code: '200' });
    counter.inc({ code: '200' }, 2);
    gauge.set({ room: 'a "quoted"\nname\\x' }, -1.5);
    for (const v of [0.05, 0.3, 0.3, 2]) histogram.observe({ route: '/x' }, v);

    const text = registry.render();
    assert.match(text, /^# HELP temperature Current\\ntemperature \\\\ C$/m);
    assert.match(text, /^# TYPE latency_seconds histogram$/m);
    assert.match(text, /^latency_seconds_bucket\{route="\/x",le="0.5"\} 3$/m);
    assert.match(text, /^latency_seconds_bucket\{route="\/x",le="\+Inf"\} 4$/m);

    const families = parseExposition(text);
    assert.equal(sampleValue(families, 'jobs_total', { code: '200' }), 3);
    assert.equal(
      sampleValue(families, 'temperature', { room: 'a "quoted"\nname\\x' }),
      -1.5,
    );
    assert.equal(
      sampleValue(families, 'latency_seconds_bucket', { le: '0.1' }),
      1,
    );
    assert.equal(
      sampleValue(families, 'latency_seconds_bucket', { le: '1' }),
      3,
    );
    assert.equal(sampleValue(families, 'latency_seconds_count'), 4);
    assert.ok(
      Math.abs((sampleValue(families, 'latency_seconds_sum') ?? 0) - 2.65) <
        1e-9,
    );
  });

  it('rejects invalid names, labels and decreasing counters', () => {
    assert.throws(() => new Counter('bad-name', 'x'));
    assert.throws(() => new Counter('ok', 'x', ['__reserved']));
    assert.throws(() => new Histogram('h', 'x', ['le']));
    const counter = new Counter('c_total', 'x', ['a']);
    assert.throws(() => counter.inc({ a: '1' }, -1));
    assert.throws(() => counter.inc({ b: '1' }));
    const registry = new Registry();
    registry.register(new Gauge('g', 'x'));
    assert.throws(() => registry.register(new Gauge('g', 'x')));
  });

  it('has a test parser that catches malformed exposition text', () => {
    assert.throws(() => parseExposition('a 1'), /newline/);
    assert.throws(() => parseExposition('a{b="1} 1\n'));
    assert.throws(() => parseExposition('a one\n'));
    assert.throws(
      () =>
        parseExposition(
          '# TYPE h histogram\nh_bucket{le="1"} 2\nh_sum 1\nh_count 2\n',
        ),
      /\+Inf/,
    );
    assert.throws(
      () =>
        parseExposition(
          '# TYPE h histogram\nh_bucket{le="1"} 3\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 2\n',
        ),
      /cumulative/,
    );
    assert.throws(() => parseExposition('a 1\nb 1\na 2\n'), /contiguous/);
  });
});
