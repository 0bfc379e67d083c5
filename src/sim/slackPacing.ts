/**
 * Slack's per-channel pacing of chat.postMessage ("about one message per second per channel, short bursts
 * allowed"), as a token bucket per channel on wall-clock time: pacing is about how fast the bot really
 * posts, whatever the sim clock's speed.
 */
export interface ChannelRate {
  /** Tokens added per second. */
  perSecond: number;
  /** Most tokens a channel can hold, i.e. the burst posted at once after a quiet spell. */
  burst: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export class ChannelPacer {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    readonly rate: ChannelRate,
    private readonly now: () => number = Date.now,
  ) {
    if (!(rate.perSecond > 0)) throw new Error(`perSecond must be positive, got ${rate.perSecond}`);
    if (!(rate.burst >= 1)) throw new Error(`burst must be at least 1, got ${rate.burst}`);
  }

  /** 0 when a post to `channel` may go now (it takes a token); otherwise the whole seconds to wait, ≥ 1. */
  take(channel: string): number {
    const now = this.now();
    const bucket = this.buckets.get(channel) ?? { tokens: this.rate.burst, updatedAt: now };
    const elapsedSeconds = Math.max(0, now - bucket.updatedAt) / 1000;
    bucket.tokens = Math.min(this.rate.burst, bucket.tokens + elapsedSeconds * this.rate.perSecond);
    bucket.updatedAt = now;
    this.buckets.set(channel, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.rate.perSecond));
  }
}
