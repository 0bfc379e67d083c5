/**
 * `limit` and `continue` on list calls, as the API server pages through etcd: items in key order
 * (namespace, then name), a continue token that names the last key returned and the resourceVersion of
 * the first page, and `410 Expired` once etcd would have compacted that revision away.
 */
import type { SimRequest } from './http.js';
import { isJsonObject, type JsonObject, type JsonValue } from './json.js';
import { KubeError } from './kubeErrors.js';

/** kube-apiserver compacts etcd every 5 minutes by default; a token older than that is refused. */
export const continueTokenLifetimeMs = 5 * 60 * 1000;

interface ContinueToken {
  /** The list kind the token was issued for; a token only resumes its own list. */
  kind: string;
  /** resourceVersion of the first page, reported on every later page as the real server does. */
  rv: number;
  /** Key of the last item returned: resume after it. */
  start: string;
  /** Sim time the first page was served. */
  at: number;
}

export interface Page {
  items: JsonObject[];
  /** What the list's metadata gets besides the defaults: continue, remainingItemCount, resourceVersion. */
  metadata: JsonObject;
}

function metadataOf(object: JsonObject): JsonObject {
  const metadata = object.metadata;
  return isJsonObject(metadata) ? metadata : {};
}

function text(value: JsonValue | undefined): string {
  return typeof value === 'string' ? value : '';
}

/** etcd's key for an object: `namespace/name`, or `name` for a cluster-scoped one. */
function keyOf(object: JsonObject): string {
  const metadata = metadataOf(object);
  const namespace = text(metadata.namespace);
  return namespace === '' ? text(metadata.name) : `${namespace}/${text(metadata.name)}`;
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function encodeToken(token: ContinueToken): string {
  // The real token is base64url JSON too ({"v":"meta.k8s.io/v1","rv":…,"start":"…\u0000"}).
  const body = {
    v: 'meta.k8s.io/v1',
    rv: token.rv,
    start: `${token.start}\u0000`,
    kind: token.kind,
    at: token.at,
  };
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

function invalidContinue(reason: string): KubeError {
  return new KubeError(400, 'BadRequest', `continue key is not valid: ${reason}`);
}

function decodeToken(raw: string, kind: string): ContinueToken {
  if (!/^[A-Za-z0-9_-]+$/.test(raw)) throw invalidContinue('illegal base64 data at input byte 0');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw invalidContinue('invalid character looking for beginning of value');
  }
  if (
    !isJsonObject(parsed) ||
    parsed.v !== 'meta.k8s.io/v1' ||
    typeof parsed.rv !== 'number' ||
    typeof parsed.start !== 'string' ||
    !parsed.start.endsWith('\u0000') ||
    typeof parsed.at !== 'number'
  ) {
    throw invalidContinue('incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  }
  if (parsed.kind !== kind) throw invalidContinue('continue key is for a different resource');
  return { kind, rv: parsed.rv, start: parsed.start.slice(0, -1), at: parsed.at };
}

function parseLimit(raw: string | null): number {
  if (raw === null || raw === '') return 0;
  const limit = Number(raw);
  if (!Number.isInteger(limit)) {
    throw new KubeError(
      400,
      'BadRequest',
      `strconv.ParseInt: parsing ${JSON.stringify(raw)}: invalid syntax`,
    );
  }
  // A limit of 0 or less means no limit, as with the real server.
  return Math.max(0, limit);
}

/**
 * One page of `items` for this request. Without `limit` and `continue` the list is returned whole and in
 * the order given (the sim's creation order, which existing callers rely on); a paged request gets etcd's
 * order, namespace then name, so that pages never overlap or skip.
 */
export function paginate(
  req: SimRequest,
  kind: string,
  items: JsonObject[],
  resourceVersion: number,
  now: number,
): Page {
  const limit = parseLimit(req.query.get('limit'));
  const rawContinue = req.query.get('continue') ?? '';
  if (limit === 0 && rawContinue === '') return { items, metadata: {} };
  const token = rawContinue === '' ? undefined : decodeToken(rawContinue, kind);
  if (token && now - token.at > continueTokenLifetimeMs) {
    throw new KubeError(
      410,
      'Expired',
      'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
    );
  }
  const sorted = items
    .map((item) => ({ item, key: keyOf(item) }))
    .sort((a, b) => compareKeys(a.key, b.key))
    .filter(({ key }) => token === undefined || compareKeys(key, token.start) > 0);
  const page = limit === 0 ? sorted : sorted.slice(0, limit);
  const remaining = sorted.length - page.length;
  const rv = token?.rv ?? resourceVersion;
  const last = page.at(-1);
  const metadata: JsonObject = { resourceVersion: String(rv) };
  if (remaining > 0 && last) {
    metadata.continue = encodeToken({ kind, rv, start: last.key, at: token?.at ?? now });
    metadata.remainingItemCount = remaining;
  }
  return { items: page.map(({ item }) => item), metadata };
}
