/**
 * Command-line parsing shared by the entry points: `node:util` parseArgs,
 * with every option declared and its errors turned into usage errors.
 */
import { parseArgs } from 'node:util';

export interface ParsedArgs {
  readonly flags: ReadonlyMap<string, string>;
  readonly positionals: readonly string[];
}

export interface CommandLineSpec {
  /** Options that take a value: `--name value` or `--name=value`. */
  readonly values: readonly string[];
  /** Options that take none, such as `help`. */
  readonly switches?: readonly string[];
}

/** A negative number (`shift -1.5`) is an argument, not a short option. */
const NEGATIVE_NUMBER = /^-(\d|\.\d)/;

/**
 * Parses `argv` against `spec`. Unknown options, a value-taking option without
 * a value and a switch given a value are usage errors.
 */
export function parseCommandLine(
  argv: readonly string[],
  spec: CommandLineSpec,
): ParsedArgs {
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const name of spec.values) options[name] = { type: 'string' };
  for (const name of spec.switches ?? []) options[name] = { type: 'boolean' };
  // parseArgs reads "-1.5" as short options; hand it a stand-in and map the
  // positional back to the original argument by its index.
  const args = argv.map((arg, i) => {
    const before = argv[i - 1];
    const isValue =
      before !== undefined &&
      before.startsWith('--') &&
      !before.includes('=') &&
      spec.values.includes(before.slice(2));
    return NEGATIVE_NUMBER.test(arg) && !isValue ? `number:${arg}` : arg;
  });
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options,
      strict: true,
      allowPositionals: true,
      tokens: true,
    });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const flags = new Map<string, string>();
  for (const [name, value] of Object.entries(parsed.values)) {
    if (value !== undefined) flags.set(name, String(value));
  }
  const positionals = parsed.tokens
    .filter(t => t.kind === 'positional')
    .map(t => argv[t.index]!);
  return { flags, positionals };
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Flag value, else environment variable, else fallback. */
export function option(
  args: ParsedArgs,
  flag: string,
  envVar: string,
  fallback: string,
): string {
  return args.flags.get(flag) ?? process.env[envVar] ?? fallback;
}

export function integerOption(
  args: ParsedArgs,
  flag: string,
  envVar: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = option(args, flag, envVar, String(fallback));
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(
      `--${flag} (or ${envVar}) must be an integer between ${min} and ${max}, got "${raw}"`,
    );
  }
  return value;
}

export function numberOption(
  args: ParsedArgs,
  flag: string,
  envVar: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = option(args, flag, envVar, String(fallback));
  const value = Number(raw);
  if (
    raw.trim() === '' ||
    !Number.isFinite(value) ||
    value < min ||
    value > max
  ) {
    throw new UsageError(
      `--${flag} (or ${envVar}) must be a number between ${min} and ${max}, got "${raw}"`,
    );
  }
  return value;
}

/** Writes one JSON log line to stderr. */
export function logLine(
  component: string,
  event: string,
  fields: Record<string, unknown> = {},
): void {
  process.stderr.write(
    `${JSON.stringify({
      time: new Date().toISOString(),
      component,
      event,
      ...fields,
    })}\n`,
  );
}
