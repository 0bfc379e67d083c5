import { createHash, randomBytes, randomUUID } from 'node:crypto';

/** The alphabet Kubernetes uses for generated name suffixes and pod-template-hash (no vowels, no 0/1/3). */
const kubeAlphabet = 'bcdfghjklmnpqrstvwxz2456789';

export function kubeSuffix(length = 5): string {
  return Array.from(randomBytes(length), (byte) => kubeAlphabet[byte % kubeAlphabet.length]).join('');
}

/** A stable hash of a pod template, like Deployment's pod-template-hash: same template, same hash. */
export function templateHash(template: unknown): string {
  const digest = createHash('sha256').update(JSON.stringify(template)).digest();
  return Array.from(digest.subarray(0, 10), (byte) => kubeAlphabet[byte % kubeAlphabet.length]).join('');
}

export function randomHex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

export function uuid(): string {
  return randomUUID();
}

export function labelFingerprint(labels: Record<string, string>): string {
  const canonical = Object.keys(labels)
    .sort()
    .map((key) => `${key}=${labels[key]}`)
    .join(',');
  return createHash('sha256').update(canonical).digest('hex').slice(0, 8);
}

/** A UUID-shaped id derived from `seed`: the same object computed twice keeps its uid. */
export function stableUid(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
