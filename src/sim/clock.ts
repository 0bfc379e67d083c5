/**
 * Simulated time. Everything in the emulator that changes over time (operations, mesh provisioning,
 * pod readiness) is computed from `now()` when read, so pausing and advancing is deterministic.
 */
export interface SimClock {
  now(): number;
  pause(): void;
  resume(): void;
  advance(ms: number): void;
  readonly speed: number;
}

export class ScaledClock implements SimClock {
  private anchorSim: number;
  private anchorReal: number;
  private frozenAt: number | undefined;

  constructor(
    readonly speed: number,
    startTime: number,
    private readonly realNow: () => number = Date.now,
  ) {
    if (!(speed > 0)) throw new Error(`sim speed must be positive, got ${speed}`);
    this.anchorSim = startTime;
    this.anchorReal = realNow();
  }

  now(): number {
    if (this.frozenAt !== undefined) return this.frozenAt;
    return Math.floor(this.anchorSim + (this.realNow() - this.anchorReal) * this.speed);
  }

  pause(): void {
    this.frozenAt ??= this.now();
  }

  resume(): void {
    if (this.frozenAt === undefined) return;
    this.anchorSim = this.frozenAt;
    this.anchorReal = this.realNow();
    this.frozenAt = undefined;
  }

  advance(ms: number): void {
    if (ms < 0) throw new Error('the sim clock only moves forward');
    if (this.frozenAt !== undefined) this.frozenAt += ms;
    else this.anchorSim += ms;
  }
}

export function rfc3339(ms: number): string {
  return new Date(ms).toISOString();
}

/** Kubernetes timestamps carry whole seconds. */
export function kubeTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
