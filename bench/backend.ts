// The backend the benchmarks talk to, and the guest token they use.

export const BACKEND =
  process.env.MODELOPS_BACKEND_URL ?? 'http://localhost:7007';

/** Signs in as the guest user of the portal's development sign-in. */
export async function guestToken(): Promise<string> {
  const res = await fetch(
    `${BACKEND}/api/auth/guest/refresh?optional&env=development`,
    { headers: { 'X-Requested-With': 'XMLHttpRequest' } },
  );
  if (!res.ok) throw new Error(`guest sign-in failed: ${res.status}`);
  return ((await res.json()) as any).backstageIdentity.token;
}

/** A POST of `body` as JSON, signed in with `auth`. */
export function postJson(auth: string, body: unknown): RequestInit {
  return {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${auth}`,
      'Content-Type': 'application/json',
    },
    body: JSON.stringify(body),
  };
}
