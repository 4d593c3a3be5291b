import { InputError } from '@backstage/errors';
import {
  MIN_DERIVED_STEP_SECONDS,
  PROMETHEUS_MAX_POINTS,
  resolveRange,
} from './SeriesService';

const NOW = Date.parse('2026-12-01T12:00:00Z') / 1000;

describe('resolveRange', () => {
  it('defaults to the hour before now with a derived step', () => {
    expect(resolveRange({}, NOW)).toEqual({
      start: NOW - 3600,
      end: NOW,
      step: MIN_DERIVED_STEP_SECONDS,
    });
  });

  it('derives 240 points from a long range', () => {
    const r = resolveRange(
      { start: '2026-11-24T12:00:00Z', end: '2026-12-01T12:00:00Z' },
      NOW,
    );
    expect(r.step).toBe((7 * 86400) / 240);
  });

  it("raises a step that would exceed Prometheus' point limit", () => {
    const r = resolveRange(
      { start: '2026-11-01T12:00:00Z', end: '2026-12-01T12:00:00Z', step: 1 },
      NOW,
    );
    expect((r.end - r.start) / r.step).toBeLessThan(PROMETHEUS_MAX_POINTS);
    expect(r.step).toBe(Math.ceil((30 * 86400) / (PROMETHEUS_MAX_POINTS - 1)));
  });

  it('keeps a step that is fine', () => {
    expect(resolveRange({ step: 60 }, NOW).step).toBe(60);
  });

  it.each([
    [{ start: 'yesterday' }, /start must be an RFC 3339 time/],
    [{ end: '1733050800' }, /end must be an RFC 3339 time/],
    [
      { start: '2026-12-01T12:00:00Z', end: '2026-12-01T11:00:00Z' },
      /start must be before end/,
    ],
    [
      { start: '2026-01-01T00:00:00Z', end: '2026-12-01T00:00:00Z' },
      /longer than 32 days/,
    ],
  ])('refuses %j with a 400', (request, message) => {
    expect(() => resolveRange(request, NOW)).toThrow(InputError);
    expect(() => resolveRange(request, NOW)).toThrow(message);
  });
});
