export type GoogleApiName = 'gkehub' | 'container' | 'serviceusage' | 'resourcemanager' | 'connectgateway';
export type FaultApi = GoogleApiName | 'kubernetes';
export type FaultStatus = 429 | 500 | 503 | 403;

export interface FaultRule {
  api: FaultApi;
  status: FaultStatus;
  /** How many matching calls fail (default 1). Ignored when `rate` is given. */
  times?: number;
  /** Probability 0..1 that a matching call fails, for as long as the rule stays. */
  rate?: number;
  /** HTTP method to match, e.g. 'PATCH'. */
  method?: string;
  pathIncludes?: string;
  retryAfterSeconds?: number;
  /** google.rpc.ErrorInfo reason, e.g. SERVICE_DISABLED. */
  reason?: string;
  /** With reason SERVICE_DISABLED: the API reported as disabled (default: the faulted API itself). */
  service?: string;
  /** With a 403: the IAM permission denied, as Google names it (e.g. gkehub.memberships.create). */
  permission?: string;
}

export interface FiredFault {
  api: FaultApi;
  status: FaultStatus;
  method: string;
  path: string;
  reason?: string;
  service?: string;
  permission?: string;
  retryAfterSeconds?: number;
}

/** A call that answers normally, but only after `latencyMs`: a slow API, or one a client gives up on. */
export interface LatencyRule {
  api: FaultApi;
  latencyMs: number;
  /** How many matching calls are slowed (default 1). */
  times?: number;
  method?: string;
  pathIncludes?: string;
}

interface ActiveRule {
  rule: FaultRule;
  remaining: number;
}

export class FaultInjector {
  private rules: ActiveRule[] = [];
  private latencies: Array<{ rule: LatencyRule; remaining: number }> = [];
  /** Calls that were slowed, oldest first. */
  readonly slowed: Array<{ api: FaultApi; method: string; path: string; latencyMs: number }> = [];
  /** Every fault that fired, oldest first. */
  readonly history: FiredFault[] = [];

  constructor(private readonly random: () => number = Math.random) {}

  add(rule: FaultRule): void {
    if (rule.rate !== undefined && !(rule.rate >= 0 && rule.rate <= 1)) {
      throw new Error(`fault rate must be within 0..1, got ${rule.rate}`);
    }
    this.rules.push({ rule, remaining: rule.rate === undefined ? (rule.times ?? 1) : Infinity });
  }

  /** The rules still in force, oldest first, with how many calls each will still fail (Infinity: a rate). */
  get active(): Array<{ rule: FaultRule; remaining: number }> {
    return this.rules.map(({ rule, remaining }) => ({ rule: { ...rule }, remaining }));
  }

  clear(): void {
    this.rules = [];
    this.latencies = [];
  }

  slow(rule: LatencyRule): void {
    this.latencies.push({ rule, remaining: rule.times ?? 1 });
  }

  /** How long this call should be held before it is answered (0: not at all); consumes one use. */
  takeLatency(api: FaultApi, method: string, path: string): number {
    const active = this.latencies.find(
      ({ rule, remaining }) =>
        rule.api === api &&
        remaining > 0 &&
        (rule.method === undefined || rule.method.toUpperCase() === method) &&
        (rule.pathIncludes === undefined || path.includes(rule.pathIncludes)),
    );
    if (!active) return 0;
    active.remaining -= 1;
    this.latencies = this.latencies.filter((l) => l.remaining > 0);
    this.slowed.push({ api, method, path, latencyMs: active.rule.latencyMs });
    return active.rule.latencyMs;
  }

  /** How many faults fired since the sim started. */
  get fired(): number {
    return this.history.length;
  }

  /** The fault this call should get, if any; consumes one use of the matching rule. */
  take(api: FaultApi, method: string, path: string): FiredFault | undefined {
    for (const active of this.rules) {
      const { rule } = active;
      if (rule.api !== api || active.remaining <= 0) continue;
      if (rule.method !== undefined && rule.method.toUpperCase() !== method) continue;
      if (rule.pathIncludes !== undefined && !path.includes(rule.pathIncludes)) continue;
      if (rule.rate !== undefined && this.random() >= rule.rate) continue;
      active.remaining -= 1;
      const fired: FiredFault = {
        api,
        status: rule.status,
        method,
        path,
        ...(rule.reason === undefined ? {} : { reason: rule.reason }),
        ...(rule.service === undefined ? {} : { service: rule.service }),
        ...(rule.permission === undefined ? {} : { permission: rule.permission }),
        ...(rule.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: rule.retryAfterSeconds }),
      };
      this.history.push(fired);
      this.rules = this.rules.filter((r) => r.remaining > 0);
      return fired;
    }
    return undefined;
  }
}
