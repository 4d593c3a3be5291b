import { InputError } from '@backstage/errors';
import { CST, isScalar, Lexer, parseAllDocuments, Tags, visit } from 'yaml';
import { KubeObject } from '../../kubernetes/types';
import { checkObjectShape } from './objectShape';

/** Limits of `parseManifests`. */
export interface ManifestLimits {
  /** Total size of the YAML text in bytes. Default 1 MiB. */
  maxBytes?: number;
  /** Number of non-empty documents. Default 50. */
  maxDocuments?: number;
  /** Alias (`*ref`) expansions per document. Default 50. */
  maxAliasCount?: number;
  /**
   * Values (scalars, aliases, collections) in the whole text. Default
   * 20,000. Bounds the CPU spent parsing (the YAML parser is slow on huge
   * collections); with aliases expanded an object may have 4x as many.
   */
  maxNodes?: number;
}

const DEFAULT_LIMITS: Required<ManifestLimits> = {
  maxBytes: 1024 * 1024,
  maxDocuments: 50,
  maxAliasCount: 50,
  maxNodes: 20_000,
};

const NODE_TOKENS = new Set([
  'scalar',
  'single-quoted-scalar',
  'double-quoted-scalar',
  'alias',
  'flow-seq-start',
  'flow-map-start',
  'seq-item-ind',
]);

/**
 * A cheap lex before the (slower) parse: refuses text with more than
 * `maxNodes` scalars and aliases, or far more documents than allowed.
 */
function checkTokenCounts(
  text: string,
  maxNodes: number,
  maxDocuments: number,
): string | undefined {
  let nodes = 0;
  let docs = 0;
  const maxDocStarts = maxDocuments * 4 + 10; // leaves room for empty documents
  for (const token of new Lexer().lex(text)) {
    const type = CST.tokenType(token);
    if (type && NODE_TOKENS.has(type) && ++nodes > maxNodes) {
      return `Manifests have more than ${maxNodes} YAML values; split them or remove unused parts`;
    }
    if (type === 'doc-start' && ++docs > maxDocStarts) {
      return `Manifests have more than ${maxDocStarts} YAML documents (the limit is ${maxDocuments} non-empty ones)`;
    }
  }
  return undefined;
}

/** Duplicate mapping keys, found in linear time (the parser's check is quadratic). */
function duplicateKeys(
  doc: ReturnType<typeof parseAllDocuments>[number],
): string[] {
  const found: string[] = [];
  visit(doc, {
    Map(_, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        const key = String(pair.key.value);
        if (key === '<<') continue;
        if (seen.has(key) && found.length < 5) found.push(key);
        seen.add(key);
      }
    },
  });
  return found;
}

const MAX_REPORTED_PROBLEMS = 20;

// YAML 1.1 like kubectl (sigs.k8s.io/yaml reads `0644` as octal and `yes`
// as true), but without the 1.1 types that have no JSON form.
const JSON_INCOMPATIBLE_TAGS = new Set([
  'tag:yaml.org,2002:timestamp',
  'tag:yaml.org,2002:binary',
  'tag:yaml.org,2002:omap',
  'tag:yaml.org,2002:pairs',
  'tag:yaml.org,2002:set',
]);

function kubectlCompatibleTags(tags: Tags): Tags {
  return tags.filter(t => {
    const tag = t as { tag?: string; format?: string };
    return !JSON_INCOMPATIBLE_TAGS.has(tag.tag ?? '') && tag.format !== 'TIME';
  });
}

/**
 * The path of a value that contains itself (`data: &x {k: *x}`: a YAML
 * alias of an enclosing anchor), or undefined. Iterative, so neither a
 * cycle nor deep nesting can overflow the stack; values shared by several
 * aliases without a cycle are fine.
 */
export function findCycle(root: unknown): string | undefined {
  const onPath = new Set<object>();
  const stack: Array<
    { exit: object } | { value: unknown; path: string; exit?: undefined }
  > = [{ value: root, path: '' }];
  while (stack.length) {
    const top = stack.pop()!;
    if (top.exit !== undefined) {
      onPath.delete(top.exit);
      continue;
    }
    const { value, path } = top as { value: unknown; path: string };
    if (value === null || typeof value !== 'object') continue;
    if (onPath.has(value)) return path || '(root)';
    onPath.add(value);
    stack.push({ exit: value });
    const entries: Array<[string, unknown]> = Array.isArray(value)
      ? value.map((v, i) => [`${path}[${i}]`, v])
      : Object.entries(value as Record<string, unknown>).map(([k, v]) => [
          path ? `${path}.${k}` : k,
          v,
        ]);
    for (let i = entries.length - 1; i >= 0; i--) {
      stack.push({ value: entries[i][1], path: entries[i][0] });
    }
  }
  return undefined;
}

/**
 * Finds a value that JSON cannot carry (NaN, Infinity, Date, ...) and
 * measures the object as it would be sent, aliases expanded: `budget`
 * bounds the nodes and string bytes, so a few aliases of a huge anchor
 * cannot blow up into a giant request. Runs after `findCycle`, so it never
 * meets a value that contains itself.
 */
function findNonJson(
  value: unknown,
  path: string,
  budget: { nodes: number; bytes: number },
): string | undefined {
  budget.nodes--;
  if (budget.nodes < 0 || budget.bytes < 0) {
    return 'the document is too large once its YAML aliases are expanded';
  }
  if (value === null) return undefined;
  switch (typeof value) {
    case 'string':
      budget.bytes -= value.length;
      return budget.bytes < 0
        ? 'the document is too large once its YAML aliases are expanded'
        : undefined;
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value)
        ? undefined
        : `${path || '(root)'} is ${value}, which JSON cannot represent`;
    case 'object': {
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const found = findNonJson(value[i], `${path}[${i}]`, budget);
          if (found) return found;
        }
        return undefined;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        return `${path || '(root)'} has a YAML type that JSON cannot represent`;
      }
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        budget.bytes -= k.length;
        const found = findNonJson(v, path ? `${path}.${k}` : k, budget);
        if (found) return found;
      }
      return undefined;
    }
    default:
      return `${path || '(root)'} is a ${typeof value}`;
  }
}

/**
 * Parses multi-document YAML into Kubernetes objects. Empty documents are
 * skipped. Every problem is collected and thrown as one InputError naming the
 * document (1-based, counting every `---` document) and what is wrong. Alias
 * expansion is bounded, so a "billion laughs" document fails fast.
 */
export function parseManifests(
  text: string,
  limits: ManifestLimits = {},
): KubeObject[] {
  const { maxBytes, maxDocuments, maxAliasCount, maxNodes } = {
    ...DEFAULT_LIMITS,
    ...limits,
  };
  const size = Buffer.byteLength(text, 'utf8');
  if (size > maxBytes) {
    throw new InputError(
      `Manifests are ${size} bytes, more than the limit of ${maxBytes} bytes`,
    );
  }

  const tooLarge = checkTokenCounts(text, maxNodes, maxDocuments);
  if (tooLarge) throw new InputError(tooLarge);

  let docs: ReturnType<typeof parseAllDocuments>;
  try {
    docs = parseAllDocuments(text, {
      version: '1.1',
      customTags: kubectlCompatibleTags,
      uniqueKeys: false,
      prettyErrors: true,
    });
  } catch (e) {
    throw new InputError(
      `Manifests are not valid YAML: ${(e as Error).message}`,
    );
  }
  const list = Array.isArray(docs) ? docs : [];

  const problems: string[] = [];
  const objects: KubeObject[] = [];
  let nonEmpty = 0;
  // Shared by all documents; only alias expansion can exceed it.
  const budget = { nodes: 4 * maxNodes, bytes: 2 * maxBytes };
  list.forEach((doc, i) => {
    const where = `document ${i + 1}`;
    if (doc.errors.length) {
      problems.push(
        `${where}: invalid YAML: ${doc.errors
          .map(e => e.message.split('\n')[0])
          .join('; ')}`,
      );
      return;
    }
    if (doc.contents === null) return; // empty document
    nonEmpty++;
    if (nonEmpty > maxDocuments) return;
    const duplicates = duplicateKeys(doc);
    if (duplicates.length) {
      problems.push(
        `${where}: duplicate key${duplicates.length > 1 ? 's' : ''} ${duplicates
          .map(k => `"${k}"`)
          .join(', ')} in a mapping`,
      );
      return;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount });
    } catch (e) {
      const message = (e as Error).message;
      problems.push(
        /alias/i.test(message)
          ? `${where}: too many YAML alias expansions (limit ${maxAliasCount}); write the values out instead of using anchors`
          : `${where}: ${message}`,
      );
      return;
    }
    if (value === null || value === undefined) {
      nonEmpty--;
      return;
    }
    // Before any other walk over the value: a cycle would never end.
    const cycle = findCycle(value);
    if (cycle) {
      problems.push(
        `${where} refers to itself through a YAML alias (at ${cycle}); an anchor cannot be used inside its own value, write the value out instead`,
      );
      return;
    }
    const shape = checkObjectShape(value);
    if (shape.length) {
      problems.push(...shape.map(p => `${where}: ${p}`));
      return;
    }
    const nonJson = findNonJson(value, '', budget);
    if (nonJson) {
      problems.push(`${where}: ${nonJson}`);
      return;
    }
    objects.push(value as KubeObject);
  });

  if (nonEmpty > maxDocuments) {
    problems.unshift(
      `there are ${nonEmpty} documents, more than the limit of ${maxDocuments}`,
    );
  }
  if (!problems.length && !objects.length) {
    problems.push('no Kubernetes objects found (every document is empty)');
  }
  if (problems.length) {
    const shown = problems.slice(0, MAX_REPORTED_PROBLEMS);
    const more = problems.length - shown.length;
    throw new InputError(
      `Invalid manifests: ${shown.join('; ')}${
        more > 0 ? `; and ${more} more problem(s)` : ''
      }`,
    );
  }
  return objects;
}
