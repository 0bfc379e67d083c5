/**
 * What the emulator's two command lines (`npm run sim`, and the console for a bot run elsewhere) share:
 * the runtime-contract lines that point a bot at the emulator, the wait for Ctrl-C or SIGTERM, and the
 * exit with a one-line reason.
 */
import type { Sim } from './index.js';

/** The bot's environment for this emulator, one `NAME=value` line each (the runtime contract's names). */
export function envLines(sim: Sim): string[] {
  return [
    `MESHOPS_GKEHUB_URL=${sim.urls.gkehub}`,
    `MESHOPS_CONTAINER_URL=${sim.urls.container}`,
    `MESHOPS_SERVICEUSAGE_URL=${sim.urls.serviceusage}`,
    `MESHOPS_RESOURCEMANAGER_URL=${sim.urls.resourcemanager}`,
    `MESHOPS_CONNECTGATEWAY_URL=${sim.urls.connectgateway}`,
    `SLACK_API_URL=${sim.urls.slack}`,
    `MESHOPS_GCP_ACCESS_TOKEN=${sim.token}`,
    `SLACK_BOT_TOKEN=${sim.slackToken}`,
  ];
}

/** The emulator's own lines before the contract's: each cluster's endpoint, the state and control endpoint. */
export function worldLines(sim: Sim): string[] {
  return [
    ...sim.world.clusters.map((c) => `# cluster ${c.ref} at https://${c.endpoint}`),
    `# the emulator's state and control: ${sim.controlUrl}_sim/state`,
  ];
}

/** Resolves on the first SIGINT or SIGTERM. */
export function untilStopped(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}

/** Runs a command line's main and exits with its code, or with 1 and `NAME failed: reason`. */
export function runCli(name: string, main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${name} failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
