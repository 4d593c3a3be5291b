/** Fault injection: extra latency and a random error rate on inference requests. */
import { HttpError, isPlainObject } from './http-util.ts';
import type { Rng } from './rng.ts';

export const MAX_INJECTED_LATENCY_MS = 60_000;

export interface FaultConfig {
  /** Added to every inference request's model execution time. */
  readonly latencyMs: number;
  /** Probability (0..1) that an inference request fails with HTTP 500. */
  readonly errorRate: number;
}

export const NO_FAULTS: FaultConfig = { latencyMs: 0, errorRate: 0 };

export class FaultInjector {
  readonly #rng: Rng;
  #config: FaultConfig = NO_FAULTS;

  constructor(rng: Rng) {
    this.#rng = rng;
  }

  get config(): FaultConfig {
    return this.#config;
  }

  /** Applies the fields present in `patch`; absent fields keep their value. */
  update(patch: Partial<FaultConfig>): FaultConfig {
    this.#config = { ...this.#config, ...patch };
    return this.#config;
  }

  clear(): FaultConfig {
    this.#config = NO_FAULTS;
    return this.#config;
  }

  /** Draws whether the current request should fail. */
  shouldFail(): boolean {
    return (
      this.#config.errorRate > 0 && this.#rng.next() < this.#config.errorRate
    );
  }
}

/** Validates a `POST /admin/faults` body. */
export function parseFaultPatch(body: unknown): Partial<FaultConfig> {
  if (!isPlainObject(body))
    throw new HttpError(
      400,
      'Expected a JSON object like {"latencyMs": 300, "errorRate": 0.2}',
    );
  const unknown = Object.keys(body).filter(
    k => k !== 'latencyMs' && k !== 'errorRate',
  );
  if (unknown.length > 0)
    throw new HttpError(
      400,
      `Unknown field(s): ${unknown.join(
        ', ',
      )}; expected latencyMs and/or errorRate`,
    );
  const patch: { latencyMs?: number; errorRate?: number } = {};
  const { latencyMs, errorRate } = body;
  if (latencyMs !== undefined) {
    if (
      typeof latencyMs !== 'number' ||
      !Number.isFinite(latencyMs) ||
      latencyMs < 0 ||
      latencyMs > MAX_INJECTED_LATENCY_MS
    ) {
      throw new HttpError(
        400,
        `latencyMs must be a number between 0 and ${MAX_INJECTED_LATENCY_MS}`,
      );
    }
    patch.latencyMs = latencyMs;
  }
  if (errorRate !== undefined) {
    if (
      typeof errorRate !== 'number' ||
      !Number.isFinite(errorRate) ||
      errorRate < 0 ||
      errorRate > 1
    ) {
      throw new HttpError(400, 'errorRate must be a number between 0 and 1');
    }
    patch.errorRate = errorRate;
  }
  if (patch.latencyMs === undefined && patch.errorRate === undefined) {
    throw new HttpError(400, 'Provide latencyMs and/or errorRate');
  }
  return patch;
}
