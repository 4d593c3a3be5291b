import { isDnsLabel, isDnsSubdomain, isLabelValue } from './names';

describe('Kubernetes names', () => {
  it('tells RFC 1123 labels', () => {
    for (const ok of ['models', 'a', 'a-1', 'x'.repeat(63)]) {
      expect(isDnsLabel(ok)).toBe(true);
    }
    for (const bad of ['', 'Models', '-a', 'a-', 'a.b', 'x'.repeat(64)]) {
      expect(isDnsLabel(bad)).toBe(false);
    }
  });

  it('tells RFC 1123 subdomains up to 253 characters', () => {
    expect(isDnsSubdomain('fraud-detector.v2')).toBe(true);
    expect(isDnsSubdomain(`${'a'.repeat(63)}.${'b'.repeat(63)}`)).toBe(true);
    expect(isDnsSubdomain('a..b')).toBe(false);
    expect(isDnsSubdomain('Fraud')).toBe(false);
    expect(isDnsSubdomain('a'.repeat(254))).toBe(false);
  });

  it('tells label values', () => {
    for (const ok of ['fraud-detector', 'A_b.c', '1', 'x'.repeat(63)]) {
      expect(isLabelValue(ok)).toBe(true);
    }
    for (const bad of ['', '-a', 'a_', 'a b', 'a/b', 'x'.repeat(64)]) {
      expect(isLabelValue(bad)).toBe(false);
    }
  });
});
