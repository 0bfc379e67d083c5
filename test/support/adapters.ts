import { v1 as containerV1 } from '@google-cloud/container';
import { OAuth2Client } from 'google-auth-library';
import { loadConfig } from '../../src/config.js';
import { buildCloudAdapters } from '../../src/cloudAdapters.js';
import type { Sim } from '../../src/sim/index.js';
import { contractEnv } from './harness.js';

/**
 * The adapters exactly as main.ts wires them, pointed at the emulator; `waits` records every backoff,
 * `sharedReadMs` is how old a feature read may be to answer a poll (0: every poll reads).
 */
export function adaptersFor(sim: Sim, waits: number[] = [], sharedReadMs = 0) {
  const config = loadConfig(contractEnv(sim, { REDIS_URL: 'redis://unused' }), {
    google: { retry: { attempts: 4, baseDelayMs: 20, maxDelayMs: 3000 } },
  });
  return buildCloudAdapters(
    config.google,
    (ms) => {
      waits.push(ms);
      return new Promise((resolve) => setTimeout(resolve, ms));
    },
    sharedReadMs,
  );
}

/** A bare Container client, for looking at what it throws before any adapter touches it. */
export function rawContainerClient(sim: Sim): containerV1.ClusterManagerClient {
  const url = new URL(sim.urls.container);
  const authClient = new OAuth2Client();
  authClient.setCredentials({ access_token: sim.token });
  return new containerV1.ClusterManagerClient({
    fallback: true,
    apiEndpoint: url.hostname,
    port: Number(url.port),
    protocol: 'http',
    authClient,
  });
}
