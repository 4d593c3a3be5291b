import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inCidr, readyEndpoints } from '../src/endpoints.ts';

test('inCidr: inside and outside a /24, malformed input', () => {
  assert.equal(inCidr('10.160.134.12', '10.160.134.0/24'), true);
  assert.equal(inCidr('10.160.135.12', '10.160.134.0/24'), false);
  assert.equal(inCidr('192.0.2.2', '10.160.134.0/24'), false);
  assert.equal(inCidr('10.160.134', '10.160.134.0/24'), false);
  assert.equal(inCidr('10.160.134.300', '10.160.134.0/24'), false);
  assert.equal(inCidr('10.160.134.1', '10.160.134.0/33'), false);
});

test('readyEndpoints: ready addresses of the named port, inside the pod CIDR only', () => {
  const list = {
    items: [
      {
        ports: [{ name: 'http', port: 8080 }],
        endpoints: [
          { addresses: ['10.1.2.11'], conditions: { ready: true } },
          { addresses: ['10.1.2.12'], conditions: { ready: false } },
          {
            addresses: ['10.1.2.13'],
            conditions: { ready: true, terminating: true },
          },
          { addresses: ['192.0.2.9'], conditions: { ready: true } },
          { addresses: ['10.1.2.10'] },
        ],
      },
      {
        ports: [{ name: 'metrics', port: 9090 }],
        endpoints: [{ addresses: ['10.1.2.20'] }],
      },
    ],
  };
  assert.deepEqual(readyEndpoints(list, 'http', '10.1.2.0/24'), [
    '10.1.2.10:8080',
    '10.1.2.11:8080',
  ]);
});
