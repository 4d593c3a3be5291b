/** The entry points' command-line parsing (node:util parseArgs underneath). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCommandLine, UsageError } from '../src/cli-args.ts';

const SPEC = { values: ['server', 'rps'], switches: ['help'] } as const;

describe('parseCommandLine', () => {
  it('reads --name value, --name=value, switches and positionals in order', () => {
    const args = parseCommandLine(
      ['--server', 'http://127.0.0.1:1', 'shift', '--rps=5', '--help', '2'],
      SPEC,
    );
    assert.deepEqual(Object.fromEntries(args.flags), {
      server: 'http://127.0.0.1:1',
      rps: '5',
      help: 'true',
    });
    assert.deepEqual(args.positionals, ['shift', '2']);
  });

  it('keeps a negative number as an argument', () => {
    const args = parseCommandLine(['shift', '-1.5', '--rps', '3'], SPEC);
    assert.deepEqual(args.positionals, ['shift', '-1.5']);
    assert.equal(args.flags.get('rps'), '3');
    assert.deepEqual(parseCommandLine(['shift', '-.5'], SPEC).positionals, [
      'shift',
      '-.5',
    ]);
  });

  it('refuses unknown options, a missing value and a value on a switch', () => {
    for (const argv of [
      ['--bogus'],
      ['--server'],
      ['--rps', '-1'],
      ['--help=yes'],
      ['-x'],
    ]) {
      assert.throws(
        () => parseCommandLine(argv, SPEC),
        (err: unknown) => err instanceof UsageError,
        argv.join(' '),
      );
    }
  });
});
