/** Tiny `--flag value` parser shared by the command-line entry points. */

export interface ParsedArgs {
  readonly flags: ReadonlyMap<string, string>;
  readonly positionals: readonly string[];
}

/** Parses `--name value` and `--name=value`; `booleanFlags` take no value. */
export function parseArgs(
  argv: readonly string[],
  booleanFlags: readonly string[] = [],
): ParsedArgs {
  const flags = new Map<string, string>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--') || arg === '--') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    if (eq !== -1) flags.set(name, arg.slice(eq + 1));
    else if (booleanFlags.includes(name)) flags.set(name, 'true');
    else {
      const value = argv[i + 1];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      flags.set(name, value);
      i += 1;
    }
  }
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
