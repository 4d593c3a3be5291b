import { formatRelativeTime } from './time';

describe('formatRelativeTime', () => {
  const now = Date.parse('2026-11-26T12:00:00Z');

  it.each([
    ['2026-11-26T11:59:40Z', 'just now'],
    ['2026-11-26T11:55:00Z', '5 minutes ago'],
    ['2026-11-26T09:00:00Z', '3 hours ago'],
    ['2026-11-25T12:00:00Z', 'yesterday'],
    ['2026-11-12T12:00:00Z', '2 weeks ago'],
    ['not a date', 'not a date'],
  ])('formats %s as %s', (iso, expected) => {
    expect(formatRelativeTime(iso, now)).toBe(expected);
  });
});
