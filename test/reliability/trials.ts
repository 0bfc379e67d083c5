/** What the crash trials share: seeded kill points, and trials run a few at a time. */

/** Kill on the arrival of this request (1-based), counted from when the trial starts counting. */
export interface KillPoint {
  request: number;
  /** Milliseconds after that arrival (0: while the server handles it). */
  delayMs: number;
}

/** mulberry32: a small seeded generator, so a trial's kill point can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** `count` kill points drawn from the `requests` a clean trial made: half on arrival, half 1–40 ms later. */
export function killPoints(count: number, requests: number, seed: number): KillPoint[] {
  const next = random(seed);
  return Array.from({ length: count }, () => ({
    request: 1 + Math.floor(next() * Math.max(1, requests - 1)),
    delayMs: next() < 0.5 ? 0 : 1 + Math.floor(next() * 40),
  }));
}

/** Trial 1…N, one per kill point, `lanes` at a time; the results in trial order. */
export async function inLanes<T>(
  points: KillPoint[],
  lanes: number,
  trial: (index: number, kill: KillPoint) => Promise<T>,
): Promise<T[]> {
  const results: T[] = new Array<T>(points.length);
  let cursor = 0;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (cursor < points.length) {
        const index = cursor++;
        results[index] = await trial(index + 1, points[index]!);
      }
    }),
  );
  return results;
}
