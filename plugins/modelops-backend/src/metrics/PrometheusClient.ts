/**
 * A small client for Prometheus' HTTP query API (instant and range queries),
 * bounded in time and size. Queries are sent as form bodies (POST), so long
 * grouped queries never meet a URL length limit. The bearer token stays here:
 * it is never part of an error or a response.
 */
import {
  ModelOpsInstantSample,
  ModelOpsMetricsSource,
  ModelOpsRangeSeries,
} from '@modelops/plugin-modelops-node';

/** One series of an instant query (what every metrics source answers). */
export type InstantSample = ModelOpsInstantSample;

/** One series of a range query. */
export type RangeSeries = ModelOpsRangeSeries;

/** Prometheus did not answer usefully: down, slow, refused the query, or answered too much. */
export class PrometheusError extends Error {
  readonly name = 'PrometheusError';
  constructor(
    message: string,
    /** `unreachable`, `timeout`, `rejected` (4xx/5xx with Prometheus' own error), `too-large`. */
    readonly reason: 'unreachable' | 'timeout' | 'rejected' | 'too-large',
  ) {
    super(message);
  }
}

export interface PrometheusClientOptions {
  /** Base URL, e.g. http://127.0.0.1:19090 */
  url: string;
  /** Sent as `Authorization: Bearer ...` when set. */
  token?: string;
  /** Per request. */
  timeoutMs: number;
  /** Largest response body accepted, in bytes. */
  maxResponseBytes: number;
  /** Most series one query may return. */
  maxSeries: number;
  /**
   * Ask for gzip-compressed answers. Off by default: decompressing the
   * answers of a chart took about a third of the backend's CPU per request
   * against a Prometheus on the same host.
   */
  compressed?: boolean;
}

function toNumber(v: unknown): number {
  // Prometheus encodes sample values as strings, including "NaN" and "+Inf".
  return typeof v === 'string' ? Number(v) : NaN;
}

export class PrometheusClient implements ModelOpsMetricsSource {
  readonly type = 'prometheus';
  private readonly base: string;

  constructor(private readonly options: PrometheusClientOptions) {
    this.base = options.url.replace(/\/+$/, '');
  }

  /** Where this client sends queries (for error messages; never with credentials). */
  get url(): string {
    return this.base;
  }

  async instant(query: string, at?: number): Promise<InstantSample[]> {
    const form: Record<string, string> = { query };
    if (at !== undefined) form.time = String(at);
    const data = await this.post('/api/v1/query', form);
    if (data.resultType !== 'vector')
      throw new PrometheusError(
        `expected a vector from ${this.base}, got ${data.resultType}`,
        'rejected',
      );
    return (data.result as any[]).map(r => ({
      metric: r.metric ?? {},
      value: toNumber(r.value?.[1]),
    }));
  }

  async range(
    query: string,
    start: number,
    end: number,
    step: number,
  ): Promise<RangeSeries[]> {
    const data = await this.post('/api/v1/query_range', {
      query,
      start: String(start),
      end: String(end),
      step: String(step),
    });
    return (data.result as any[]).map(r => ({
      metric: r.metric ?? {},
      points: ((r.values ?? []) as [number, string][]).map(([t, v]) => ({
        t,
        v: toNumber(v),
      })),
    }));
  }

  private async post(
    path: string,
    form: Record<string, string>,
  ): Promise<{ resultType: string; result: unknown[] }> {
    const headers: Record<string, string> = {
      'Content-Type': 'application/x-www-form-urlencoded',
      Accept: 'application/json',
      'Accept-Encoding': this.options.compressed ? 'gzip' : 'identity',
    };
    if (this.options.token)
      headers.Authorization = `Bearer ${this.options.token}`;
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method: 'POST',
        headers,
        body: new URLSearchParams(form).toString(),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (e) {
      const err = e as Error;
      if (err.name === 'TimeoutError' || err.name === 'AbortError')
        throw new PrometheusError(
          `Prometheus at ${this.base} did not answer within ${this.options.timeoutMs} ms`,
          'timeout',
        );
      const cause = (err as { cause?: { code?: string; message?: string } })
        .cause;
      throw new PrometheusError(
        `Prometheus at ${this.base} is unreachable: ${
          cause?.code ?? cause?.message ?? err.message
        }`,
        'unreachable',
      );
    }
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (declared > this.options.maxResponseBytes) {
      await res.body?.cancel();
      throw this.tooLarge();
    }
    let text: string;
    try {
      text = await this.readBounded(res);
    } catch (e) {
      if (e instanceof PrometheusError) throw e;
      throw new PrometheusError(
        `Prometheus at ${this.base} did not finish its answer within ${this.options.timeoutMs} ms`,
        'timeout',
      );
    }
    let body: any;
    try {
      body = JSON.parse(text);
    } catch {
      throw new PrometheusError(
        `Prometheus at ${this.base} answered HTTP ${res.status} with a body that is not JSON`,
        'rejected',
      );
    }
    if (!res.ok || body?.status !== 'success') {
      throw new PrometheusError(
        `Prometheus at ${this.base} refused the query (HTTP ${res.status}${
          body?.errorType ? `, ${body.errorType}` : ''
        }): ${String(body?.error ?? 'no error message')}`,
        'rejected',
      );
    }
    const data = body.data ?? {};
    if (!Array.isArray(data.result))
      throw new PrometheusError(
        `Prometheus at ${this.base} answered without a result`,
        'rejected',
      );
    if (data.result.length > this.options.maxSeries)
      throw new PrometheusError(
        `Prometheus at ${this.base} answered ${data.result.length} series, more than the ${this.options.maxSeries} allowed (modelops.metrics.prometheus.maxSeries)`,
        'too-large',
      );
    return data;
  }

  private tooLarge(): PrometheusError {
    return new PrometheusError(
      `Prometheus at ${this.base} answered more than ${this.options.maxResponseBytes} bytes (modelops.metrics.prometheus.maxResponseBytes)`,
      'too-large',
    );
  }

  private async readBounded(res: Response): Promise<string> {
    if (!res.body) return '';
    const reader = res.body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > this.options.maxResponseBytes) {
        await reader.cancel();
        throw this.tooLarge();
      }
      chunks.push(value);
    }
    return Buffer.concat(chunks).toString('utf8');
  }
}
