/**
 * Request parsing and response building for the two inference protocols:
 * KServe v1 ("instances"/"predictions") and the Open Inference Protocol v2
 * (tensors with name, shape, datatype and data). Every check throws an
 * HttpError(400) with a message that says what is wrong.
 */
import { HttpError, isPlainObject } from './http-util.ts';
import type { Prediction } from './model.ts';

/** Upper bound on instances per request, on top of the body size limit. */
export const MAX_BATCH = 10_000;

export const V2_INPUT_NAME = 'input-0';
export const V2_OUTPUTS = ['predicted_class', 'probabilities'] as const;
const V2_INPUT_DATATYPES = ['FP32', 'FP64'];

// ---------------------------------------------------------------- KServe v1

/**
 * Parses `{"instances": [...]}` where each instance is either an array of
 * feature values in model order or an object keyed by feature name.
 */
export function parseV1Request(
  body: unknown,
  featureNames: readonly string[],
): number[][] {
  if (!isPlainObject(body))
    throw new HttpError(
      400,
      'Expected a JSON object with an "instances" array',
    );
  const instances = body['instances'];
  if (!Array.isArray(instances))
    throw new HttpError(400, 'Expected "instances" to be an array');
  checkBatchSize(instances.length);
  return instances.map((instance, i) =>
    parseInstance(instance, i, featureNames),
  );
}

function parseInstance(
  instance: unknown,
  index: number,
  featureNames: readonly string[],
): number[] {
  const where = `instances[${index}]`;
  if (Array.isArray(instance)) {
    if (instance.length !== featureNames.length) {
      throw new HttpError(
        400,
        `${where} has ${instance.length} values; expected ${
          featureNames.length
        } (${featureNames.join(', ')})`,
      );
    }
    return instance.map((value, f) => checkNumber(value, `${where}[${f}]`));
  }
  if (isPlainObject(instance)) {
    const unknown = Object.keys(instance).filter(
      k => !featureNames.includes(k),
    );
    if (unknown.length > 0)
      throw new HttpError(
        400,
        `${where} has unknown feature(s): ${unknown.join(', ')}`,
      );
    const missing = featureNames.filter(f => !(f in instance));
    if (missing.length > 0)
      throw new HttpError(
        400,
        `${where} is missing feature(s): ${missing.join(', ')}`,
      );
    return featureNames.map(f => checkNumber(instance[f], `${where}.${f}`));
  }
  throw new HttpError(
    400,
    `${where} must be an array of ${featureNames.length} numbers or an object keyed by feature name`,
  );
}

export function buildV1Response(
  predictions: readonly Prediction[],
  classNames: readonly string[],
): { predictions: string[] } {
  return {
    predictions: predictions.map(
      p => classNames[p.classIndex] ?? String(p.classIndex),
    ),
  };
}

// ------------------------------------------------------- Open Inference v2

export interface V2Request {
  readonly id?: string;
  readonly rows: number[][];
  readonly outputs: readonly (typeof V2_OUTPUTS)[number][];
}

export interface V2Tensor {
  name: string;
  shape: number[];
  datatype: string;
  data: number[];
}

export interface V2Response {
  model_name: string;
  model_version: string;
  id?: string;
  outputs: V2Tensor[];
}

/**
 * Parses an inference request with a single FP32/FP64 input tensor of shape
 * [batch, features]; `data` may be flat (row-major) or nested.
 */
export function parseV2Request(body: unknown, featureCount: number): V2Request {
  if (!isPlainObject(body))
    throw new HttpError(400, 'Expected a JSON object with an "inputs" array');
  const { id, inputs, outputs } = body;
  if (id !== undefined && typeof id !== 'string')
    throw new HttpError(400, '"id" must be a string');
  if (!Array.isArray(inputs) || inputs.length !== 1) {
    throw new HttpError(
      400,
      `Expected "inputs" to be an array with exactly one tensor ("${V2_INPUT_NAME}")`,
    );
  }
  const input: unknown = inputs[0];
  if (!isPlainObject(input))
    throw new HttpError(400, 'inputs[0] must be an object');
  const { name, shape, datatype, data } = input;
  if (typeof name !== 'string' || name.length === 0)
    throw new HttpError(400, 'inputs[0].name must be a non-empty string');
  if (typeof datatype !== 'string' || !V2_INPUT_DATATYPES.includes(datatype)) {
    throw new HttpError(
      400,
      `inputs[0].datatype must be one of ${V2_INPUT_DATATYPES.join(', ')}`,
    );
  }
  if (
    !Array.isArray(shape) ||
    shape.length !== 2 ||
    !shape.every(
      (d): d is number => Number.isSafeInteger(d) && (d as number) >= 0,
    )
  ) {
    throw new HttpError(
      400,
      `inputs[0].shape must be [batch_size, ${featureCount}]`,
    );
  }
  const [batch, width] = shape as [number, number];
  if (width !== featureCount)
    throw new HttpError(
      400,
      `inputs[0].shape[1] is ${width}; the model expects ${featureCount} features`,
    );
  checkBatchSize(batch);
  if (!Array.isArray(data))
    throw new HttpError(400, 'inputs[0].data must be an array');
  const flat = (data as unknown[]).flat(2);
  if (flat.length !== batch * width) {
    throw new HttpError(
      400,
      `inputs[0].data has ${
        flat.length
      } elements; shape [${batch}, ${width}] needs ${batch * width}`,
    );
  }
  const round = datatype === 'FP32' ? Math.fround : (v: number) => v;
  const values = flat.map((v, i) =>
    round(checkNumber(v, `inputs[0].data[${i}]`)),
  );
  const rows: number[][] = [];
  for (let r = 0; r < batch; r++)
    rows.push(values.slice(r * width, (r + 1) * width));
  return {
    ...(id === undefined ? {} : { id }),
    rows,
    outputs: parseRequestedOutputs(outputs),
  };
}

function parseRequestedOutputs(
  outputs: unknown,
): (typeof V2_OUTPUTS)[number][] {
  if (outputs === undefined) return [...V2_OUTPUTS];
  if (!Array.isArray(outputs))
    throw new HttpError(
      400,
      '"outputs" must be an array of {"name": ...} objects',
    );
  return outputs.map((o, i) => {
    const name = isPlainObject(o) ? o['name'] : undefined;
    const known = V2_OUTPUTS.find(n => n === name);
    if (!known)
      throw new HttpError(
        400,
        `outputs[${i}].name must be one of ${V2_OUTPUTS.join(', ')}`,
      );
    return known;
  });
}

export function buildV2Response(
  request: V2Request,
  predictions: readonly Prediction[],
  modelName: string,
  modelVersion: string,
  classCount: number,
): V2Response {
  const outputs = request.outputs.map((name): V2Tensor => {
    if (name === 'predicted_class') {
      return {
        name,
        shape: [predictions.length],
        datatype: 'INT64',
        data: predictions.map(p => p.classIndex),
      };
    }
    return {
      name,
      shape: [predictions.length, classCount],
      datatype: 'FP32',
      data: predictions.flatMap(p => p.probabilities.map(v => Math.fround(v))),
    };
  });
  return {
    model_name: modelName,
    model_version: modelVersion,
    ...(request.id === undefined ? {} : { id: request.id }),
    outputs,
  };
}

// ------------------------------------------------------------------ shared

function checkNumber(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    const shown =
      value === undefined ? 'nothing' : JSON.stringify(value).slice(0, 60);
    throw new HttpError(400, `${where} must be a finite number, got ${shown}`);
  }
  return value;
}

function checkBatchSize(size: number): void {
  if (size === 0) throw new HttpError(400, 'The request contains no instances');
  if (size > MAX_BATCH)
    throw new HttpError(
      400,
      `At most ${MAX_BATCH} instances per request, got ${size}`,
    );
}
