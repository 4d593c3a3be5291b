/** Waiting: plain sleeps and polling until something holds. */
import { PlatformError } from './output.ts';

export const sleep = (ms: number): Promise<void> =>
  new Promise(r => setTimeout(r, ms));

/** Polls `check` every 300 ms (errors count as "not yet"); a PlatformError of `component` on timeout. */
export async function waitFor(
  component: string,
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  log?: string,
  hint?: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch {
      /* retry */
    }
    await sleep(300);
  }
  throw new PlatformError(
    component,
    `${what} did not happen within ${Math.round(timeoutMs / 1000)}s`,
    log,
    hint,
  );
}
