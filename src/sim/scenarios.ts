import type { ClusterSpec, NamespaceSpec, Scenario, ScenarioName } from './types.js';

const sampleImages = 'us-central1-docker.pkg.dev/google-samples/microservices-demo';

function c1Namespaces(istioSystem: NamespaceSpec): NamespaceSpec[] {
  return [
    {
      name: 'default',
      deployments: [
        { name: 'web', replicas: 2, image: 'us-docker.pkg.dev/google-samples/containers/gke/hello-app:1.0' },
      ],
    },
    {
      name: 'shop',
      deployments: [
        { name: 'cart', replicas: 2, image: `${sampleImages}/cartservice:v0.10.1` },
        { name: 'checkout', replicas: 1, image: `${sampleImages}/checkoutservice:v0.10.1` },
      ],
      podDisruptionBudgets: [{ name: 'cart', selector: { app: 'cart' }, minAvailable: 1 }],
    },
    { name: 'kube-system' },
    istioSystem,
  ];
}

function c1(istioSystem: NamespaceSpec, extra: NamespaceSpec[] = []): ClusterSpec {
  return {
    project: 'proj-a',
    location: 'us-central1',
    name: 'c1',
    releaseChannel: 'REGULAR',
    workloadIdentity: true,
    autopilot: true,
    resourceLabels: { env: 'dev', team: 'platform' },
    namespaces: [...c1Namespaces(istioSystem), ...extra],
  };
}

/**
 * A batch job that opted out of the managed data plane: its proxies are never upgraded, so they stay
 * behind after a roll-out. The namespace is labelled for injection, so a restart once the managed data
 * plane is ACTIVE gives the pods a sidecar.
 */
const legacy: NamespaceSpec = {
  name: 'legacy',
  labels: { 'istio-injection': 'enabled' },
  deployments: [
    {
      name: 'batch',
      replicas: 2,
      image: 'us-docker.pkg.dev/meshops-sim/apps/batch:0.9.3',
      templateAnnotations: { 'mesh.cloud.google.com/proxy': '{"managed":"false"}' },
    },
  ],
};

/** A Standard cluster without Workload Identity, in a second project: the failure cases. */
const c2: ClusterSpec = {
  project: 'proj-b',
  location: 'europe-west1',
  name: 'c2',
  releaseChannel: 'RAPID',
  workloadIdentity: false,
  autopilot: false,
  namespaces: [
    {
      name: 'default',
      deployments: [
        { name: 'web', replicas: 1, image: 'us-docker.pkg.dev/google-samples/containers/gke/hello-app:1.0' },
      ],
    },
    { name: 'kube-system' },
    { name: 'istio-system' },
  ],
};

const projects = [
  { id: 'proj-a', number: '123456789012', displayName: 'Project A' },
  { id: 'proj-b', number: '987654321098', displayName: 'Project B' },
];

/**
 * An asmcli-installed in-cluster control plane, as in seed 002, mid-canary: `asm-1115-3` serves
 * `default`, the newer `asm-1125-2` (one replica) already serves `shop`. Their pods run the sidecars of
 * those revisions from the start.
 */
const inClusterIstiod: NamespaceSpec = {
  name: 'istio-system',
  deployments: [
    {
      name: 'istiod-asm-1115-3',
      replicas: 2,
      image: 'gcr.io/gke-release/asm/pilot:1.11.5-asm.3',
      labels: { 'istio.io/rev': 'asm-1115-3', app: 'istiod' },
      podLabels: { app: 'istiod', istio: 'pilot', 'istio.io/rev': 'asm-1115-3' },
    },
    {
      name: 'istiod-asm-1125-2',
      replicas: 1,
      image: 'gcr.io/gke-release/asm/pilot:1.12.5-asm.2',
      labels: { 'istio.io/rev': 'asm-1125-2', app: 'istiod' },
      podLabels: { app: 'istiod', istio: 'pilot', 'istio.io/rev': 'asm-1125-2' },
    },
  ],
  configMaps: [
    { name: 'istio-asm-1115-3', data: { mesh: 'accessLogFile: /dev/stdout\n' } },
    { name: 'istio-asm-1125-2', data: { mesh: 'accessLogFile: /dev/stdout\n' } },
  ],
};

/** The namespaces of c1 on the in-cluster revisions (seed 002 labels them `istio.io/rev=asm-1115-3`). */
const inClusterRevisions: Record<string, string> = { default: 'asm-1115-3', shop: 'asm-1125-2' };

function onInClusterRevisions(spec: ClusterSpec): ClusterSpec {
  return {
    ...spec,
    namespaces: (spec.namespaces ?? []).map((ns) => {
      const revision = inClusterRevisions[ns.name];
      return revision ? { ...ns, labels: { ...ns.labels, 'istio.io/rev': revision } } : ns;
    }),
  };
}

export function namedScenario(name: ScenarioName): Scenario {
  switch (name) {
    case 'default':
      return { projects, clusters: [c1({ name: 'istio-system' }), c2] };
    case 'in-cluster-istiod':
      return { projects, clusters: [onInClusterRevisions(c1(inClusterIstiod)), c2] };
    case 'upgrades':
      return { projects, clusters: [c1({ name: 'istio-system' }, [legacy]), c2] };
  }
}

export const scenarioNames: ScenarioName[] = ['default', 'in-cluster-istiod', 'upgrades'];
