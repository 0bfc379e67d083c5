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
  /** From now on, `speed` simulated ms per real ms; the simulated time reached so far stays. */
  setSpeed(speed: number): void;
}

export class ScaledClock implements SimClock {
  private anchorSim: number;
  private anchorReal: number;
  private frozenAt: number | undefined;
  private scale: number;

  constructor(
    speed: number,
    startTime: number,
    private readonly realNow: () => number = Date.now,
  ) {
    this.scale = checkedSpeed(speed);
    this.anchorSim = startTime;
    this.anchorReal = realNow();
  }

  get speed(): number {
    return this.scale;
  }

  setSpeed(speed: number): void {
    const checked = checkedSpeed(speed);
    // Re-anchored at this moment, so time already simulated does not jump.
    this.anchorSim = this.now();
    this.anchorReal = this.realNow();
    this.scale = checked;
  }

  now(): number {
    if (this.frozenAt !== undefined) return this.frozenAt;
    return Math.floor(this.anchorSim + (this.realNow() - this.anchorReal) * this.scale);
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

function checkedSpeed(speed: number): number {
  if (!(speed > 0) || !Number.isFinite(speed)) throw new Error(`sim speed must be positive, got ${speed}`);
  return speed;
}

export function rfc3339(ms: number): string {
  return new Date(ms).toISOString();
}

/** Kubernetes timestamps carry whole seconds. */
export function kubeTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
