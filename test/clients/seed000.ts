/**
 * Seed 000's runbook as commands for the real gcloud and kubectl, pointed at a running sim: what
 * `npm run test:clients` checks step by step and `bench/runbook.ts` times against meshops.
 */
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { clientEnvironment, writeClientFiles } from '../../src/sim/clientConfig.js';
import type { Sim } from '../../src/sim/index.js';
import { requireTools, Transcript } from './tools.js';

export const projectNumber = '123456789012';
export const membershipKey = `projects/${projectNumber}/locations/us-central1/memberships/c1`;

/** Each command as the seed types it (with gcloud 528's flags: --gke-cluster, --location). */
export const runbook = {
  listMemberships: ['gcloud', 'container', 'fleet', 'memberships', 'list'],
  clusterUris: ['gcloud', 'container', 'clusters', 'list', '--uri'],
  register: [
    'gcloud',
    'container',
    'fleet',
    'memberships',
    'register',
    'c1',
    '--gke-cluster=us-central1/c1',
    '--enable-workload-identity',
  ],
  projectNumber: ['gcloud', 'projects', 'describe', 'proj-a', '--format=value(projectNumber)'],
  meshIdLabel: [
    'gcloud',
    'container',
    'clusters',
    'update',
    'c1',
    '--location=us-central1',
    `--update-labels=mesh_id=proj-${projectNumber}`,
  ],
  enableMesh: ['gcloud', 'container', 'fleet', 'mesh', 'enable'],
  manage: [
    'gcloud',
    'container',
    'fleet',
    'mesh',
    'update',
    '--management',
    'automatic',
    '--memberships',
    'c1',
  ],
  describe: ['gcloud', 'container', 'fleet', 'mesh', 'describe'],
  credentials: ['gcloud', 'container', 'clusters', 'get-credentials', 'c1', '--location=us-central1'],
  label: [
    'kubectl',
    'label',
    'namespace',
    'default',
    'istio-injection=enabled',
    'istio.io/rev-',
    '--overwrite',
  ],
  restart: ['kubectl', 'rollout', 'restart', 'deployment', '-n', 'default'],
  rolloutStatus: ['kubectl', 'rollout', 'status', 'deployment/web', '-n', 'default', '--timeout=300s'],
  podContainers: [
    'kubectl',
    'get',
    'pods',
    '-n',
    'default',
    '-o',
    'jsonpath={range .items[*]}{.metadata.name}{"\\t"}{.spec.containers[*].name}{"\\n"}{end}',
  ],
};

export interface PlaneState {
  state: string;
  details?: Array<{ code: string; details: string }>;
}

export interface MeshFeature {
  membershipSpecs?: Record<string, { mesh?: { management?: string } }>;
  membershipStates?: Record<
    string,
    {
      servicemesh?: { controlPlaneManagement?: PlaneState; dataPlaneManagement?: PlaneState };
      state?: { code?: string; description?: string };
    }
  >;
}

/** 'STATE (CODE)', as the seed writes the sequence it saw. */
export function plane(state: PlaneState | undefined): string {
  const code = state?.details?.[0]?.code;
  return `${state?.state ?? '-'}${code ? ` (${code})` : ''}`;
}

export interface Clients {
  sh: Transcript;
  /** Where `get-credentials` writes. */
  kubeconfig: string;
  remove(): Promise<void>;
}

/**
 * gcloud and kubectl against `sim`, with nothing of this machine's own configuration: a throw-away
 * CLOUDSDK_CONFIG and HOME, and without the variables that would beat them. Fails if a tool is missing.
 */
export async function clientsFor(sim: Sim): Promise<Clients> {
  requireTools({
    gcloud: 'Google Cloud SDK, package google-cloud-cli',
    kubectl: 'package kubectl or google-cloud-cli-kubectl',
    'gke-gcloud-auth-plugin': 'package google-cloud-cli-gke-gcloud-auth-plugin',
  });
  const dir = await mkdtemp(join(tmpdir(), 'meshops-clients-'));
  const files = await writeClientFiles(sim, dir, 'proj-a');
  const home = join(dir, 'home');
  mkdirSync(home);
  const kubeconfig = join(dir, 'kubeconfig');
  const sh = new Transcript({
    ...clientEnvironment(process.env, files, kubeconfig),
    // kubectl's discovery cache and the auth plugin's token cache live under HOME.
    HOME: home,
    CLOUDSDK_CORE_DISABLE_PROMPTS: '1',
  });
  return { sh, kubeconfig, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** `gcloud container fleet mesh describe` in gcloud's own YAML, as the seed shows it, parsed. */
export async function describeMesh(sh: Transcript): Promise<MeshFeature> {
  return parse((await sh.run(runbook.describe)).stdout) as MeshFeature;
}

/** Re-runs describe every `everyMs` (real time) until both planes are ACTIVE; the states seen, in order. */
export async function awaitPlanesActive(
  sh: Transcript,
  everyMs: number,
  timeoutMs: number,
): Promise<{ controlPlane: string[]; dataPlane: string[]; feature: MeshFeature }> {
  const controlPlane: string[] = [];
  const dataPlane: string[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const feature = await describeMesh(sh);
    const state = feature.membershipStates?.[membershipKey]?.servicemesh;
    const cp = plane(state?.controlPlaneManagement);
    const dp = plane(state?.dataPlaneManagement);
    if (controlPlane.at(-1) !== cp) controlPlane.push(cp);
    if (dataPlane.at(-1) !== dp) dataPlane.push(dp);
    if ((cp.startsWith('ACTIVE') && dp.startsWith('ACTIVE')) || Date.now() > deadline) {
      return { controlPlane, dataPlane, feature };
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
