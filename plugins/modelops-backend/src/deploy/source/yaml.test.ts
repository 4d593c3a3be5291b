import { InputError } from '@backstage/errors';
import { findCycle, parseManifests } from './yaml';

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('parseManifests', () => {
  it('parses multiple documents and skips empty ones', () => {
    const objects = parseManifests(`
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: a
---
# only a comment
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: b, namespace: models }
spec:
  replicas: 2
`);
    expect(objects.map(o => `${o.kind}/${o.metadata.name}`)).toEqual([
      'ConfigMap/a',
      'Deployment/b',
    ]);
  });

  it('reads YAML like kubectl does: 0644 is octal, quoted strings stay strings', () => {
    const [cm] = parseManifests(
      'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: a }\ndata: { when: "2024-01-01", mode: "0644" }\nspec: { defaultMode: 0644, at: 2024-01-01 }\n',
    );
    expect((cm as any).spec.defaultMode).toBe(420);
    expect((cm as any).spec.at).toBe('2024-01-01');
    expect((cm as any).data).toEqual({ when: '2024-01-01', mode: '0644' });
  });

  it('names the document and the problem, for every document at once', () => {
    const error = thrown(() =>
      parseManifests(`
apiVersion: v1
kind: ConfigMap
metadata: { name: ok }
---
- just
- a list
---
kind: Service
metadata: { name: Bad_Name }
---
apiVersion: v1
kind: ConfigMap
metadata: { labels: { a: 1 } }
`),
    );
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toContain('document 2: must be a mapping');
    expect(error.message).toContain('document 3: apiVersion must be');
    expect(error.message).toContain('document 3: metadata.name "Bad_Name"');
    expect(error.message).toContain('document 4: metadata.name must be');
    expect(error.message).toContain(
      'document 4: metadata.labels["a"] must be a string',
    );
  });

  it('reports YAML syntax errors with the document', () => {
    const error = thrown(() =>
      parseManifests(
        'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: a }\n---\nfoo: [unclosed\n',
      ),
    );
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toMatch(/document 2: invalid YAML/);
  });

  it('refuses duplicate keys', () => {
    const error = thrown(() =>
      parseManifests(
        'apiVersion: v1\nkind: ConfigMap\nkind: Secret\nmetadata: { name: a }\n',
      ),
    );
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toMatch(/document 1/);
  });

  it('refuses a billion-laughs document fast', () => {
    const lines = [
      'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    ];
    for (let i = 1; i < 10; i++) {
      lines.push(
        `a${i}: &a${i} [${Array(9)
          .fill(`*a${i - 1}`)
          .join(',')}]`,
      );
    }
    const text = `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: x }\ndata:\n${lines
      .map(l => `  ${l}`)
      .join('\n')}\n`;
    const t0 = Date.now();
    const error = thrown(() => parseManifests(text));
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toMatch(/document 1: too many YAML alias expansions/);
  });

  it('refuses a few aliases of a huge anchor (flat amplification)', () => {
    const big = `[${Array(15_000).fill('x').join(',')}]`;
    const text = `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: a }\ndata:\n  a: &a ${big}\n  l: [${Array(
      10,
    )
      .fill('*a')
      .join(',')}]\n`;
    const t0 = Date.now();
    const error = thrown(() => parseManifests(text));
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toMatch(
      /document 1: the document is too large once its YAML aliases are expanded/,
    );
  });

  it('bounds the parse time of large collections', () => {
    const wide = `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: a }\ndata: [${Array(
      400_000,
    )
      .fill('x')
      .join(',')}]\n`;
    const keys = Array.from({ length: 60_000 }, (_, i) => `  k${i}: v`).join(
      '\n',
    );
    const tall = `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: a }\ndata:\n${keys}\n`;
    const docs = Array(5000).fill('---\n').join('');
    const empties = `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: a }\ndata: [${Array(
      200_000,
    )
      .fill('[]')
      .join(',')}]\n`;
    for (const text of [wide, tall, docs, empties]) {
      const t0 = Date.now();
      const error = thrown(() => parseManifests(text));
      expect(Date.now() - t0).toBeLessThan(3000);
      expect(error).toBeInstanceOf(InputError);
      expect(error.message).toMatch(/more than/);
    }
  });

  it('finds duplicate keys in linear time', () => {
    const keys = Array.from({ length: 9_000 }, (_, i) => `  k${i}: v`);
    keys.push('  k7: again');
    const t0 = Date.now();
    const error = thrown(() =>
      parseManifests(
        `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: a }\ndata:\n${keys.join(
          '\n',
        )}\n`,
      ),
    );
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(error.message).toContain('document 1: duplicate key "k7"');
  });

  it('allows a few aliases', () => {
    const [obj] = parseManifests(
      'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: x, labels: &l { a: b } }\ndata: *l\n',
    );
    expect((obj as any).data).toEqual({ a: 'b' });
  });

  it('refuses a document that refers to itself through an alias (400, not a stack overflow)', () => {
    const cm = 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: x }\n';
    const error = thrown(() =>
      parseManifests(
        `${cm}data: &x { k: *x }\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: &m { name: y, labels: *m }\n---\n&r\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: z }\nself: [*r]\n`,
      ),
    );
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toContain(
      'document 1 refers to itself through a YAML alias (at data.k)',
    );
    expect(error.message).toContain(
      'document 2 refers to itself through a YAML alias (at metadata.labels)',
    );
    expect(error.message).toContain(
      'document 3 refers to itself through a YAML alias (at self[0])',
    );
    // An anchor used twice side by side is shared, not cyclic.
    const [shared] = parseManifests(
      `${cm}spec: { a: &v { k: v }, b: *v, c: [*v, *v] }\n`,
    );
    expect((shared as any).spec.c).toEqual([{ k: 'v' }, { k: 'v' }]);
  });

  it('finds cycles without recursion, and only real ones', () => {
    const a: any = { x: [1, { y: null }] };
    a.x[1].y = a.x;
    expect(findCycle(a)).toBe('x[1].y');
    const shared = { k: 1 };
    expect(findCycle({ a: shared, b: [shared, shared] })).toBeUndefined();
    let deep: any = {};
    const root = deep;
    for (let i = 0; i < 100_000; i++) deep = deep.n = {};
    expect(findCycle(root)).toBeUndefined();
  });

  it('enforces size and document limits', () => {
    const doc = 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: a }\n';
    expect(thrown(() => parseManifests(doc, { maxBytes: 10 })).message).toMatch(
      /more than the limit of 10 bytes/,
    );
    const many = Array(4).fill(doc).join('---\n');
    const error = thrown(() => parseManifests(many, { maxDocuments: 3 }));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toMatch(/4 documents, more than the limit of 3/);
    expect(parseManifests(many, { maxDocuments: 4 })).toHaveLength(4);
  });

  it('refuses text with no objects', () => {
    expect(thrown(() => parseManifests('---\n# nothing\n'))).toBeInstanceOf(
      InputError,
    );
    expect(thrown(() => parseManifests(''))).toBeInstanceOf(InputError);
  });

  it('refuses List kinds and generateName', () => {
    const error = thrown(() =>
      parseManifests(
        'apiVersion: v1\nkind: List\nmetadata: { name: l }\nitems: []\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: { generateName: x- }\n',
      ),
    );
    expect(error.message).toContain('kind List is not supported');
    expect(error.message).toContain('generateName');
  });
});
