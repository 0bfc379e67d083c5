import type { SimClock } from './clock.js';

/**
 * Every emulated server: the Google APIs, each cluster's Kubernetes API server, and Slack.
 * `connectgateway` is a cluster's Kubernetes API reached through Connect Gateway: the whole gateway path
 * (`/v1/projects/NUMBER/locations/L/gkeMemberships/NAME/api/v1/...`) and the member cluster's ref.
 */
export type RequestApi =
  'gkehub' | 'container' | 'serviceusage' | 'resourcemanager' | 'connectgateway' | 'kubernetes' | 'slack';

/** One request as an emulated server answered it. */
export interface RequestEntry {
  api: RequestApi;
  /** HTTP method, upper case. */
  method: string;
  /** URL path without the query, e.g. '/api/v1/namespaces/shop/pods'. */
  path: string;
  /** The raw query string without '?', '' when there is none. */
  query: string;
  /** 'PROJECT/LOCATION/NAME' of the cluster, for api 'kubernetes' (and 'connectgateway', when the membership names one). */
  cluster?: string;
  /**
   * HTTP status answered (faults, 401s and 500s included); 0 for a connection a private endpoint refused
   * (method CONNECT: nothing was read from it).
   */
  status: number;
  /** Sim clock when the request arrived. */
  at: number;
  /** Date.now() when the request arrived. */
  wallAt: number;
}

/** A request as it arrives, before it is handled. */
export interface RequestArrival {
  api: RequestApi;
  method: string;
  path: string;
  cluster?: string;
}

/** Every given field must match; `method` ignores case. */
export interface RequestFilter {
  api?: RequestApi;
  method?: string;
  cluster?: string;
  pathIncludes?: string;
}

/** Exact counts that survive truncation of the entries. */
export interface RequestTotal {
  api: RequestApi;
  method: string;
  cluster?: string;
  count: number;
}

const mutatingMethods = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);
const googleApis = new Set<RequestApi>(['gkehub', 'container', 'serviceusage', 'resourcemanager']);
/** Where a Kubernetes request can arrive: at the cluster's own endpoint or through Connect Gateway. */
const kubernetesApis = new Set<RequestApi>(['kubernetes', 'connectgateway']);

/** Google methods that read though they are POSTs (a policy read takes its options in a body). */
const readsByPost = /:(getIamPolicy|testIamPermissions)$/;

export const defaultRequestLogCapacity = 200_000;

function matches(entry: RequestEntry, filter: RequestFilter): boolean {
  return (
    (filter.api === undefined || entry.api === filter.api) &&
    (filter.method === undefined || entry.method === filter.method.toUpperCase()) &&
    (filter.cluster === undefined || entry.cluster === filter.cluster) &&
    (filter.pathIncludes === undefined || entry.path.includes(filter.pathIncludes))
  );
}

/** A Kubernetes dry run is validated and answered, but changes nothing. */
function isDryRun(entry: RequestEntry): boolean {
  return kubernetesApis.has(entry.api) && new URLSearchParams(entry.query).has('dryRun');
}

/**
 * Every request to every emulated server, oldest first. Only the newest `capacity` entries are kept (a
 * ring, so a long local session does not grow without bound), but the totals per api, method and cluster
 * are exact for as long as the log lives.
 */
export class RequestLog {
  private readonly ring: Array<RequestEntry | undefined>;
  private next = 0;
  private size = 0;
  private readonly counters = new Map<string, RequestTotal>();

  constructor(
    private readonly clock: SimClock,
    readonly capacity = defaultRequestLogCapacity,
  ) {
    if (!(capacity >= 1)) throw new Error(`request log capacity must be at least 1, got ${capacity}`);
    this.ring = new Array<RequestEntry | undefined>(capacity);
  }

  private readonly arrivals = new Set<(arrival: RequestArrival) => void>();

  /**
   * `listener` hears of every request as it arrives, before it is handled (a crash trial kills the
   * client here: the server still applies the request, but nobody reads its answer). Returns an unsubscribe.
   */
  onArrival(listener: (arrival: RequestArrival) => void): () => void {
    this.arrivals.add(listener);
    return () => this.arrivals.delete(listener);
  }

  /** Called when a request arrives; the returned function records it with the status it was answered. */
  begin(
    api: RequestApi,
    request: { method: string; path: string; query: string },
    cluster?: string,
  ): (status: number) => void {
    const at = this.clock.now();
    const wallAt = Date.now();
    for (const listener of this.arrivals) {
      listener({
        api,
        method: request.method.toUpperCase(),
        path: request.path,
        ...(cluster ? { cluster } : {}),
      });
    }
    return (status) =>
      this.record({
        api,
        method: request.method.toUpperCase(),
        path: request.path,
        query: request.query,
        ...(cluster === undefined ? {} : { cluster }),
        status,
        at,
        wallAt,
      });
  }

  record(entry: RequestEntry): void {
    this.ring[this.next] = entry;
    this.next = (this.next + 1) % this.capacity;
    this.size = Math.min(this.size + 1, this.capacity);
    const key = JSON.stringify([entry.api, entry.method, entry.cluster ?? null]);
    const total = this.counters.get(key);
    if (total) total.count += 1;
    else {
      this.counters.set(key, {
        api: entry.api,
        method: entry.method,
        ...(entry.cluster === undefined ? {} : { cluster: entry.cluster }),
        count: 1,
      });
    }
  }

  /** Kept entries in the order they were answered, oldest first. */
  entries(filter: RequestFilter = {}): RequestEntry[] {
    const start = (this.next - this.size + this.capacity) % this.capacity;
    const result: RequestEntry[] = [];
    for (let i = 0; i < this.size; i += 1) {
      const entry = this.ring[(start + i) % this.capacity];
      if (entry && matches(entry, filter)) result.push({ ...entry });
    }
    return result;
  }

  /**
   * How many requests matched. Exact (never truncated) unless `pathIncludes` is given: paths are not
   * counted separately, so that form counts the kept entries only.
   */
  count(filter: RequestFilter = {}): number {
    if (filter.pathIncludes !== undefined) return this.entries(filter).length;
    let count = 0;
    for (const total of this.counters.values()) {
      if (matches({ ...total, path: '', query: '', status: 0, at: 0, wallAt: 0 }, filter)) {
        count += total.count;
      }
    }
    return count;
  }

  /** Exact totals per api, method and cluster since the log was created or cleared. */
  totals(): RequestTotal[] {
    return [...this.counters.values()].map((total) => ({ ...total }));
  }

  /**
   * Kept Google and Kubernetes requests that could change something: POST, PATCH, PUT, DELETE, failed ones
   * included (an attempt is what a "changes nothing" test wants to catch), Kubernetes dry runs excluded.
   */
  mutations(filter: RequestFilter = {}): RequestEntry[] {
    return this.entries(filter).filter(
      (entry) =>
        (googleApis.has(entry.api) || kubernetesApis.has(entry.api)) &&
        mutatingMethods.has(entry.method) &&
        !isDryRun(entry) &&
        !readsByPost.test(entry.path),
    );
  }

  clear(): void {
    this.ring.fill(undefined);
    this.next = 0;
    this.size = 0;
    this.counters.clear();
  }
}
