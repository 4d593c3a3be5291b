/** `build`: builds (or checks) the cached binaries only. */
import { asPlatformError } from '../lib/output.ts';
import { binVersions, ensureBinaries } from '../steps/binaries.ts';

export async function build(): Promise<number> {
  try {
    await ensureBinaries(binVersions());
    return 0;
  } catch (e) {
    const err = asPlatformError(e, 'build');
    process.stderr.write(
      `[platform] build FAILED at ${err.component}: ${err.message}${
        err.logFile ? `\n  log: ${err.logFile}` : ''
      }${err.hint ? `\n  likely fix: ${err.hint}` : ''}\n`,
    );
    return 1;
  }
}
