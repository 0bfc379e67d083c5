/**
 * What a person (or test) needs to point the real `gcloud` and `kubectl` at a running sim: a throw-away
 * CLOUDSDK_CONFIG directory whose properties name the sim's client proxy, its CA and an access token file,
 * and one kubeconfig per cluster.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Sim } from './index.js';

const overridingVariables = [
  'REQUESTS_CA_BUNDLE',
  'CURL_CA_BUNDLE',
  'HTTPLIB2_CA_CERTS',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'KUBECONFIG',
];
const proxyVariables = ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'NO_PROXY'].flatMap((name) => [
  name,
  name.toLowerCase(),
]);

/**
 * Variables that beat what CLOUDSDK_CONFIG says (every `CLOUDSDK_*` is a property override; the CA bundles
 * win over `core/custom_ca_certs_file`) or that send clients elsewhere (`*_PROXY`, `NO_PROXY`). Some machines
 * export them for their own trust store, so a client pointed at the sim must run without them.
 */
export function isOverridingVariable(name: string): boolean {
  return name.startsWith('CLOUDSDK_') || [...overridingVariables, ...proxyVariables].includes(name);
}

/** `base` without the overriding variables, plus what points gcloud and kubectl at the sim. */
export function clientEnvironment(
  base: Record<string, string | undefined>,
  files: ClientFiles,
  kubeconfig: string,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(base)) {
    if (value !== undefined && !isOverridingVariable(name)) env[name] = value;
  }
  return { ...env, CLOUDSDK_CONFIG: files.cloudsdkConfig, KUBECONFIG: kubeconfig };
}

export interface ClientFiles {
  /** The directory to export as CLOUDSDK_CONFIG. */
  cloudsdkConfig: string;
  /** The CA that `core/custom_ca_certs_file` names. */
  caFile: string;
  /** Cluster ref ('proj-a/us-central1/c1') → a kubeconfig with a bearer token, for kubectl without gcloud. */
  kubeconfigs: Record<string, string>;
  /** A shell script to source: clears the overriding variables, exports CLOUDSDK_CONFIG and KUBECONFIG. */
  envScript: string;
}

function properties(sections: Record<string, Record<string, string>>): string {
  return Object.entries(sections)
    .map(([section, values]) =>
      [`[${section}]`, ...Object.entries(values).map(([key, value]) => `${key} = ${value}`)].join('\n'),
    )
    .join('\n\n')
    .concat('\n');
}

/** A kubeconfig as `get-credentials` writes it, but with the sim's token in place of the exec plugin. */
export function tokenKubeconfig(sim: Sim, ref: string): string {
  const cluster = sim.world.cluster(ref);
  if (!cluster) throw new Error(`no cluster ${ref}`);
  const name = `gke_${cluster.project}_${cluster.location}_${cluster.name}`;
  return JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name,
          cluster: {
            server: `https://${cluster.endpoint}`,
            'certificate-authority-data': Buffer.from(cluster.caPem).toString('base64'),
          },
        },
      ],
      users: [{ name, user: { token: sim.token } }],
      contexts: [{ name, context: { cluster: name, user: name } }],
      'current-context': name,
    },
    null,
    2,
  );
}

/**
 * A kubeconfig as `gcloud container fleet memberships get-credentials` writes it: the server is Connect
 * Gateway's path for `membership` (`projects/NUMBER/locations/L/memberships/M`) on
 * connectgateway.googleapis.com, reached through the sim's proxy, which presents a certificate of the sim's
 * CA for it (kubectl sends no bearer token over plain http); the sim's token in place of the exec plugin.
 */
export function gatewayKubeconfig(sim: Sim, membership: string): string {
  const [, number, , location, , name] = membership.split('/');
  const context = `connectgateway_${number}_${location}_${name}`;
  return JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: context,
          cluster: {
            server: `https://connectgateway.googleapis.com/v1/projects/${number}/locations/${location}/gkeMemberships/${name}`,
            'certificate-authority-data': Buffer.from(sim.caPem).toString('base64'),
            'proxy-url': sim.proxyUrl,
          },
        },
      ],
      users: [{ name: context, user: { token: sim.token } }],
      contexts: [{ name: context, context: { cluster: context, user: context } }],
      'current-context': context,
    },
    null,
    2,
  );
}

/** Writes the files under `dir`; `project` becomes gcloud's `core/project`. */
export async function writeClientFiles(sim: Sim, dir: string, project: string): Promise<ClientFiles> {
  const cloudsdkConfig = join(dir, 'gcloud');
  const configurations = join(cloudsdkConfig, 'configurations');
  await mkdir(configurations, { recursive: true });
  const caFile = join(dir, 'sim-ca.pem');
  const tokenFile = join(dir, 'access-token');
  await writeFile(caFile, sim.caPem);
  await writeFile(tokenFile, sim.token, { mode: 0o600 });
  const proxy = new URL(sim.proxyUrl);
  await writeFile(join(cloudsdkConfig, 'active_config'), 'default');
  await writeFile(
    join(configurations, 'config_default'),
    properties({
      core: {
        project,
        custom_ca_certs_file: caFile,
        disable_usage_reporting: 'true',
      },
      auth: { access_token_file: tokenFile },
      proxy: { type: 'http', address: proxy.hostname, port: proxy.port },
      component_manager: { disable_update_check: 'true' },
      survey: { disable_prompts: 'true' },
    }),
  );
  const kubeconfigs: Record<string, string> = {};
  for (const cluster of sim.world.clusters) {
    const file = join(dir, `kubeconfig-${cluster.project}-${cluster.name}`);
    await writeFile(file, tokenKubeconfig(sim, cluster.ref), { mode: 0o600 });
    kubeconfigs[cluster.ref] = file;
  }
  const envScript = join(dir, 'env.sh');
  const firstKubeconfig = Object.values(kubeconfigs)[0];
  await writeFile(
    envScript,
    [
      '# Source this to point gcloud and kubectl at the meshops sim (these variables would beat CLOUDSDK_CONFIG).',
      'for v in $(env | sed -n "s/^\\(CLOUDSDK_[A-Za-z0-9_]*\\)=.*/\\1/p"); do unset "$v"; done',
      `unset ${[...overridingVariables, ...proxyVariables].join(' ')}`,
      `export CLOUDSDK_CONFIG=${cloudsdkConfig}`,
      ...(firstKubeconfig ? [`export KUBECONFIG=${firstKubeconfig}`] : []),
      '',
    ].join('\n'),
  );
  return { cloudsdkConfig, caFile, kubeconfigs, envScript };
}

/** The files in a new temporary directory (gcloud's project: the first cluster's); `remove` deletes them. */
export async function prepareClientFiles(sim: Sim): Promise<ClientFiles & { remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'meshops-sim-clients-'));
  const files = await writeClientFiles(sim, dir, sim.world.clusters[0]?.project ?? 'proj-a');
  return { ...files, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** What local mode prints: how to use gcloud and kubectl against the emulated world. */
export function clientHelp(sim: Sim, files: ClientFiles): string[] {
  const clusters = sim.world.clusters.map(
    (c) =>
      `#   ${c.ref}: KUBECONFIG=${files.kubeconfigs[c.ref] ?? ''}  (or: gcloud container clusters get-credentials ${c.name} --location ${c.location} --project ${c.project})`,
  );
  return [
    '# gcloud and kubectl against this world (gcloud reaches *.googleapis.com through the sim proxy):',
    `source ${files.envScript}`,
    'gcloud container fleet memberships list',
    'kubectl get pods -A -w',
    '# a kubeconfig per cluster:',
    ...clusters,
  ];
}
