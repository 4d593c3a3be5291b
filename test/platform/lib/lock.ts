/** One `up`/`down`/`build` at a time (several terminals and test runs may share a tree). */
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { LOCK_FILE, STATE_DIR } from './layout.ts';
import { say } from './output.ts';
import { processState } from './supervisor.ts';
import { sleep } from './wait.ts';

/** The pid in the lock file, if that process still lives. */
function lockHolder(): number | undefined {
  try {
    const pid = Number(readFileSync(LOCK_FILE, 'utf8').split('\n')[0]);
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    return processState(pid) === 'Z' ? undefined : pid;
  } catch {
    return undefined;
  }
}

/** Runs fn holding the lock file; waits (up to MODELOPS_LOCK_WAIT_MS, default 10 min) for another up/down. */
export async function withLock(
  what: string,
  fn: () => Promise<number>,
): Promise<number> {
  mkdirSync(STATE_DIR, { recursive: true });
  const deadline =
    Date.now() + Number(process.env.MODELOPS_LOCK_WAIT_MS ?? 600_000);
  let told = false;
  for (;;) {
    try {
      const fd = openSync(LOCK_FILE, 'wx');
      writeFileSync(
        fd,
        `${process.pid}\n${what}\n${new Date().toISOString()}\n`,
      );
      closeSync(fd);
      break;
    } catch {
      const holder = lockHolder();
      if (holder === undefined) {
        rmSync(LOCK_FILE, { force: true }); // stale: its process is gone
        continue;
      }
      if (Date.now() > deadline) {
        process.stderr.write(
          `[platform] another up/down (pid ${holder}) still holds ${LOCK_FILE}; giving up\n`,
        );
        return 1;
      }
      if (!told) {
        say(`waiting for another up/down (pid ${holder}) to finish ...`);
        told = true;
      }
      await sleep(500);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(LOCK_FILE, { force: true });
  }
}
