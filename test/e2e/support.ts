// Shared helpers for the end-to-end tests. They run against the portal that
// scripts/test starts (app :3000, backend :7007) on top of the local platform.
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const APP_URL = process.env.MODELOPS_APP_URL ?? 'http://localhost:3000';
export const BACKEND_URL =
  process.env.MODELOPS_BACKEND_URL ?? 'http://localhost:7007';
export const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');
export const RESULTS_DIR = path.join(REPO_ROOT, 'test-results');

/** Signs in with the guest provider, as the browser does, and returns the token. */
export async function guestToken(): Promise<string> {
  const res = await fetch(
    `${BACKEND_URL}/api/auth/guest/refresh?optional&env=development`,
    { headers: { 'X-Requested-With': 'XMLHttpRequest' } },
  );
  if (!res.ok) throw new Error(`guest sign-in failed: ${res.status}`);
  const body = (await res.json()) as { backstageIdentity: { token: string } };
  return body.backstageIdentity.token;
}

export async function getJson(
  url: string,
  token: string,
): Promise<{ status: number; body: any }> {
  const res = await fetch(url, {
    headers: { Authorization: `Bearer ${token}` },
  });
  return { status: res.status, body: await res.json() };
}

/** POSTs `body` as JSON with the user's token; the answer's status and parsed body. */
export async function postJson(
  url: string,
  token: string,
  body: unknown,
): Promise<{ status: number; body: any }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${token}`,
      'Content-Type': 'application/json',
    },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/** Secrets the local platform handed to the backend, to prove they stay there. */
export function platformSecrets(): string[] {
  const state =
    process.env.MODELOPS_PLATFORM_DIR ?? path.join(REPO_ROOT, '.platform');
  const file = path.join(state, 'app-config.platform.yaml');
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/serviceAccountToken:\s*(\S+)/g)].map(m => m[1]!);
}

/** Sets the input shift of a demo service's traffic generator (0 clears it), in standard deviations. */
export async function shiftTraffic(
  service: string,
  environment: 'dev' | 'prod',
  magnitude: number,
): Promise<void> {
  const dir =
    process.env.MODELOPS_PLATFORM_DIR ?? path.join(REPO_ROOT, '.platform');
  const state = JSON.parse(
    readFileSync(path.join(dir, 'state.json'), 'utf8'),
  ) as {
    modelServers: {
      service: string;
      environment: string;
      trafficControlUrl: string;
    }[];
  };
  const server = state.modelServers.find(
    s => s.service === service && s.environment === environment,
  );
  if (!server)
    throw new Error(`no traffic generator for ${service} in ${environment}`);
  const res = await fetch(`${server.trafficControlUrl}/shift`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ magnitude }),
  });
  if (!res.ok) throw new Error(`shift: ${res.status} ${await res.text()}`);
}

/**
 * Freezes the platform's Prometheus (SIGSTOP: it accepts connections and
 * answers nothing, like a hung server) and returns what thaws it (SIGCONT).
 */
export function freezePrometheus(): () => void {
  const dir =
    process.env.MODELOPS_PLATFORM_DIR ?? path.join(REPO_ROOT, '.platform');
  const state = JSON.parse(
    readFileSync(path.join(dir, 'state.json'), 'utf8'),
  ) as { processes: { component: string; pid: number }[] };
  const prometheus = state.processes.find(p => p.component === 'prometheus');
  if (!prometheus) throw new Error('the platform runs no Prometheus');
  process.kill(prometheus.pid, 'SIGSTOP');
  return () => process.kill(prometheus.pid, 'SIGCONT');
}

const DEMO_SERVICES = ['fraud-detector', 'churn-predictor', 'image-classifier'];

async function relationsOf(token: string, ref: string): Promise<string[]> {
  const res = await fetch(
    `${BACKEND_URL}/api/catalog/entities/by-name/${ref}`,
    {
      headers: { Authorization: `Bearer ${token}` },
    },
  );
  if (!res.ok) return [];
  const entity = (await res.json()) as { relations?: { type: string }[] };
  return (entity.relations ?? []).map(r => r.type);
}

/**
 * Waits until the catalog has processed the demo entities, then signs in.
 * Ownership checks read the services' `ownedBy` relations and the user's
 * group claims come from her `memberOf` relations at sign-in; a fresh catalog
 * adds both a few seconds after it starts. Returns a token issued after that.
 */
export async function signInWhenCatalogReady(
  timeoutMs = 120_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const token = await guestToken();
      const services = await Promise.all(
        DEMO_SERVICES.map(name =>
          relationsOf(token, `component/default/${name}`),
        ),
      );
      const user = await relationsOf(token, 'user/default/ada');
      if (
        services.every(r => r.includes('ownedBy')) &&
        user.includes('memberOf')
      ) {
        return await guestToken();
      }
    } catch {
      // the user entity may not be in the catalog yet
    }
    if (Date.now() > deadline) {
      throw new Error(
        'the catalog did not process the demo entities in time (no ownedBy/memberOf relations)',
      );
    }
    await new Promise(r => setTimeout(r, 1000));
  }
}
