/** What the platform prints: progress lines, and failures a user can act on. */
import { existsSync, readFileSync } from 'node:fs';

const T0 = Date.now();

/** One progress line on stdout, with the seconds since the command started. */
export function say(msg: string): void {
  process.stdout.write(
    `[platform +${((Date.now() - T0) / 1000).toFixed(1)}s] ${msg}\n`,
  );
}

/** A failure a command reports: which component, where its log is, what to try. */
export class PlatformError extends Error {
  readonly component: string;
  readonly logFile?: string;
  readonly hint?: string;
  constructor(
    component: string,
    message: string,
    logFile?: string,
    hint?: string,
  ) {
    super(message);
    this.component = component;
    this.logFile = logFile;
    this.hint = hint;
  }
}

/** Any thrown value as a PlatformError of `component` (keeps the stack of a bug). */
export function asPlatformError(e: unknown, component: string): PlatformError {
  if (e instanceof PlatformError) return e;
  return new PlatformError(
    component,
    e instanceof Error ? e.stack ?? e.message : String(e),
  );
}

/** Prints why `up` failed: component, message, log file, likely fix and the log's last lines. */
export function reportUpFailure(err: PlatformError): void {
  process.stderr.write(
    `\n[platform] up FAILED at component: ${err.component}\n  ${err.message}\n`,
  );
  if (err.logFile) process.stderr.write(`  log: ${err.logFile}\n`);
  if (err.hint) process.stderr.write(`  likely fix: ${err.hint}\n`);
  if (err.logFile && existsSync(err.logFile) && !err.logFile.endsWith('.yml')) {
    const tail = readFileSync(err.logFile, 'utf8')
      .trim()
      .split('\n')
      .slice(-8)
      .join('\n    ');
    if (tail) process.stderr.write(`  last log lines:\n    ${tail}\n`);
  }
}
