/**
 * deploy/ as `kubectl kustomize` renders it (no cluster here: no server-side dry run), each object
 * validated against the Kubernetes schemas (kubernetes-models), and what matters checked: two
 * replicas and a PodDisruptionBudget per role, the probes on the routes the code serves, a non-root
 * read-only container, secrets only from the Secret, Workload Identity on the worker alone, Redis
 * persistence and eviction policy, and RBAC in the target clusters granting exactly the calls of
 * src/cloud/kube.ts.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { runtimeContract } from '../../src/config.js';

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
  };
  [field: string]: unknown;
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: unknown };
}

interface Probe {
  httpGet?: { path: string; port: string | number };
}

interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: EnvVar[];
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
  ports?: Array<{ name?: string; containerPort: number }>;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    runAsNonRoot?: boolean;
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[] };
  };
  volumeMounts?: Array<{ name: string; mountPath: string }>;
}

interface PodSpec {
  serviceAccountName?: string;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  containers: Container[];
  volumes?: Array<{ name: string; emptyDir?: object; configMap?: { name: string } }>;
}

interface Workload extends K8sObject {
  spec: {
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
    volumeClaimTemplates?: unknown[];
  };
}

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

function render(dir: string): K8sObject[] {
  const out = execFileSync('kubectl', ['kustomize', dir], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return parseAllDocuments(out).map((doc) => doc.toJSON() as K8sObject);
}

/** kubernetes-models' module for an apiVersion: `apps/v1` → kubernetes-models/apps/v1, `v1` → kubernetes-models/v1. */
async function validateAgainstSchema(object: K8sObject): Promise<void> {
  if (object.apiVersion === 'networking.gke.io/v1' && object.kind === 'ManagedCertificate') {
    // A GKE resource, not in the Kubernetes schemas: its one field, checked by hand.
    const spec = object.spec as { domains?: unknown };
    expect(Array.isArray(spec.domains) && spec.domains.every((d) => typeof d === 'string')).toBe(true);
    return;
  }
  const models = (await import(`kubernetes-models/${object.apiVersion}`)) as Record<
    string,
    new (data: unknown) => { validate(): void }
  >;
  const Model = models[object.kind];
  if (!Model) throw new Error(`no schema for ${object.apiVersion} ${object.kind}`);
  new Model(object).validate();
}

function named<T extends K8sObject>(objects: K8sObject[], kind: string, name: string): T {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found)
    throw new Error(`no ${kind} ${name} in ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found as T;
}

function ofKind(objects: K8sObject[], kind: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind);
}

function envOf(container: Container): Map<string, EnvVar> {
  return new Map((container.env ?? []).map((e) => [e.name, e]));
}

function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

/** Names that hold credentials: never a plain value, never in a ConfigMap. REDIS_URL may carry a password. */
const SECRET_NAME = /TOKEN|SECRET|PASSWORD|REDIS_URL/i;
const SECRET_VALUE = /xox[abp]-|xapp-|ya29\.|redis:\/\/[^@\s]*:[^@\s]+@/;

const overlays = ['http', 'socket'] as const;

describe.each(overlays)('deploy/overlays/%s', (overlay) => {
  const objects = render(`deploy/overlays/${overlay}`);
  const web = named<Workload>(objects, 'Deployment', 'meshops-web');
  const worker = named<Workload>(objects, 'Deployment', 'meshops-worker');

  it('renders objects that the Kubernetes schemas accept, all in the meshops namespace', async () => {
    expect(objects.length).toBeGreaterThan(5);
    for (const object of objects) await validateAgainstSchema(object);
    for (const object of objects.filter((o) => o.kind !== 'Namespace'))
      expect([object.kind, object.metadata.namespace]).toEqual([object.kind, 'meshops']);
  });

  it.each([
    ['web', 'meshops-web'],
    ['worker', 'meshops-worker'],
  ])('the %s role: two replicas, a PodDisruptionBudget, probes on /readyz and /healthz', (role, name) => {
    const deployment = named<Workload>(objects, 'Deployment', name);
    expect(deployment.spec.replicas).toBe(2);
    const { labels } = deployment.spec.template.metadata;
    expect(selects(deployment.spec.selector.matchLabels, labels)).toBe(true);
    const pdbs = ofKind(objects, 'PodDisruptionBudget').filter((pdb) =>
      selects(
        (pdb.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels,
        labels,
      ),
    );
    expect(pdbs).toHaveLength(1);
    expect((pdbs[0]!.spec as { minAvailable: number }).minAvailable).toBe(1);
    // No other Deployment's pods fall under this budget.
    const others = ofKind(objects, 'Deployment').filter((d) => d !== deployment) as Workload[];
    const pdbSelector = (pdbs[0]!.spec as { selector: { matchLabels: Record<string, string> } }).selector
      .matchLabels;
    expect(others.filter((d) => selects(pdbSelector, d.spec.template.metadata.labels))).toEqual([]);

    const [container] = deployment.spec.template.spec.containers;
    const env = envOf(container!);
    expect(env.get('MESHOPS_ROLE')?.value).toBe(role);
    // Every role serves /healthz and /readyz on PORT (src/main.ts healthRoutes), the worker too.
    const port = container!.ports!.find((p) => p.name === 'http')!;
    expect(String(port.containerPort)).toBe(env.get('PORT')?.value);
    expect(container!.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(container!.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    for (const kind of ['requests', 'limits'] as const) {
      expect(container!.resources?.[kind]?.memory).toMatch(/^\d+(Mi|Gi)$/);
      expect(container!.resources?.[kind]?.cpu).toBeDefined();
    }
  });

  it('runs as a non-root user on a read-only root filesystem, /tmp an emptyDir', () => {
    for (const deployment of [web, worker]) {
      const pod = deployment.spec.template.spec;
      expect(pod.securityContext?.runAsNonRoot).toBe(true);
      // The image's user is numeric (Dockerfile USER 1000): runAsNonRoot can only check a number.
      expect(pod.securityContext?.runAsUser).toBe(1000);
      for (const container of pod.containers) {
        expect(container.securityContext).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
        const tmp = container.volumeMounts?.find((m) => m.mountPath === '/tmp');
        expect(pod.volumes?.find((v) => v.name === tmp?.name)?.emptyDir).toBeDefined();
      }
    }
  });

  it('uses only the runtime contract, takes credentials from the Secret, and keeps ConfigMaps free of them', () => {
    const allowed = new Set([...runtimeContract]);
    for (const deployment of [web, worker]) {
      for (const container of deployment.spec.template.spec.containers) {
        for (const variable of container.env ?? []) {
          expect([variable.name, allowed.has(variable.name)]).toEqual([variable.name, true]);
          if (SECRET_NAME.test(variable.name)) {
            expect(variable.value).toBeUndefined();
            expect(variable.valueFrom?.secretKeyRef).toEqual({ name: 'meshops', key: variable.name });
          }
        }
        expect(container.envFrom?.every((from) => from.configMapRef && !from.secretRef)).toBe(true);
      }
    }
    for (const map of ofKind(objects, 'ConfigMap')) {
      const data = (map.data ?? {}) as Record<string, string>;
      for (const [key, value] of Object.entries(data)) {
        expect([map.metadata.name, key, SECRET_NAME.test(key)]).toEqual([map.metadata.name, key, false]);
        expect(value).not.toMatch(SECRET_VALUE);
        expect(allowed.has(key) || key.endsWith('.yaml')).toBe(true);
      }
    }
    // The Secret is the operator's (kubectl create secret, or External Secrets): never rendered from here.
    expect(ofKind(objects, 'Secret')).toEqual([]);
  });

  it('the worker alone has a Google identity (Workload Identity); the web role never calls Google', () => {
    const accountOf = (d: Workload) =>
      named(objects, 'ServiceAccount', d.spec.template.spec.serviceAccountName ?? 'default');
    expect(accountOf(worker).metadata.annotations?.['iam.gke.io/gcp-service-account']).toMatch(
      /^meshops@[\w-]+\.iam\.gserviceaccount\.com$/,
    );
    expect(accountOf(web).metadata.annotations?.['iam.gke.io/gcp-service-account']).toBeUndefined();
  });

  it('the Slack credentials of its mode: signing secret for HTTP, app token for Socket Mode; the worker needs the bot token only', () => {
    const webEnv = envOf(web.spec.template.spec.containers[0]!);
    const workerEnv = envOf(worker.spec.template.spec.containers[0]!);
    expect(webEnv.has('SLACK_BOT_TOKEN')).toBe(true);
    expect(webEnv.has('SLACK_SIGNING_SECRET')).toBe(overlay === 'http');
    expect(webEnv.has('SLACK_APP_TOKEN')).toBe(overlay === 'socket');
    expect([...workerEnv.keys()].filter((n) => n.startsWith('SLACK_'))).toEqual(['SLACK_BOT_TOKEN']);
    for (const env of [webEnv, workerEnv]) expect(env.has('REDIS_URL')).toBe(true);
  });

  it(
    overlay === 'http'
      ? 'exposes /slack/events alone, through a Service of the web pods and an Ingress'
      : 'exposes nothing: no Service, no Ingress',
    () => {
      const services = ofKind(objects, 'Service');
      const ingresses = ofKind(objects, 'Ingress');
      if (overlay === 'socket') {
        expect([...services, ...ingresses]).toEqual([]);
        return;
      }
      expect(services).toHaveLength(1);
      const service = services[0]!.spec as {
        selector: Record<string, string>;
        ports: Array<{ name: string; targetPort: string }>;
      };
      expect(selects(service.selector, web.spec.template.metadata.labels)).toBe(true);
      expect(selects(service.selector, worker.spec.template.metadata.labels)).toBe(false);
      expect(ingresses).toHaveLength(1);
      const rules = (
        ingresses[0]!.spec as { rules: Array<{ http: { paths: Array<{ path: string; backend: unknown }> } }> }
      ).rules;
      const paths = rules.flatMap((r) => r.http.paths);
      expect(paths.map((p) => p.path)).toEqual(['/slack/events']);
      expect(paths[0]!.backend).toEqual({
        service: { name: services[0]!.metadata.name, port: { name: service.ports[0]!.name } },
      });
    },
  );
});

describe('deploy/redis', () => {
  const objects = render('deploy/redis');

  it('a StatefulSet with AOF on, noeviction, a PersistentVolumeClaim, reachable only from meshops', async () => {
    for (const object of objects) await validateAgainstSchema(object);
    const redis = named<Workload>(objects, 'StatefulSet', 'meshops-redis');
    expect(redis.spec.volumeClaimTemplates).toHaveLength(1);
    const [container] = redis.spec.template.spec.containers;
    const configVolume = redis.spec.template.spec.volumes!.find((v) => v.configMap)!;
    const config = named(objects, 'ConfigMap', configVolume.configMap!.name).data as Record<string, string>;
    const conf = config['redis.conf']!;
    expect(conf).toMatch(/^appendonly yes$/m);
    expect(conf).toMatch(/^maxmemory-policy noeviction$/m);
    expect(container!.args).toEqual(['/etc/redis/redis.conf']);
    expect(container!.volumeMounts).toEqual(
      expect.arrayContaining([
        { name: 'data', mountPath: '/data' },
        expect.objectContaining({ mountPath: '/etc/redis' }),
      ]),
    );
    expect(conf).toMatch(/^dir \/data$/m);
    expect(redis.spec.template.spec.securityContext?.runAsNonRoot).toBe(true);
    expect(container!.securityContext?.readOnlyRootFilesystem).toBe(true);
    const policy = named(objects, 'NetworkPolicy', 'meshops-redis').spec as {
      ingress: Array<{ from: Array<{ podSelector: { matchLabels: Record<string, string> } }> }>;
    };
    expect(policy.ingress.flatMap((i) => i.from.map((f) => f.podSelector.matchLabels))).toEqual([
      { 'app.kubernetes.io/name': 'meshops' },
    ]);
  });
});

/** What src/cloud/kube.ts calls, as (API group, resource, verb): read from the source itself. */
function kubeCalls(): Set<string> {
  const source = readFileSync('src/cloud/kube.ts', 'utf8');
  const groups: Record<string, string> = { core: '', apps: 'apps', policy: 'policy' };
  const verbs: Record<string, string> = {
    read: 'get',
    list: 'list',
    patch: 'patch',
    create: 'create',
    delete: 'delete',
    replace: 'update',
  };
  const calls = new Set<string>();
  for (const [, api, verb, kind] of source.matchAll(
    /\b(core|apps|policy)\.(read|list|patch|create|delete|replace)(?:Namespaced)?([A-Z]\w*?)(?:ForAllNamespaces)?\(/g,
  )) {
    const resource = kind!.toLowerCase().replace(/y$/, 'ie') + 's';
    calls.add(`${groups[api!]}/${resource}/${verbs[verb!]}`);
  }
  // The mesh CRDs go through one helper that lists them: meshObjects('PLURAL', …).
  for (const [, plural] of source.matchAll(/meshObjects\('(\w+)'/g))
    calls.add(`mesh.cloud.google.com/${plural}/list`);
  return calls;
}

describe('deploy/target-cluster', () => {
  const objects = render('deploy/target-cluster');

  it('a ClusterRole granting exactly what src/cloud/kube.ts calls, bound to the Google service account', async () => {
    for (const object of objects) await validateAgainstSchema(object);
    const role = named(objects, 'ClusterRole', 'meshops');
    const granted = new Set(
      (role.rules as Rule[]).flatMap((rule) =>
        rule.apiGroups.flatMap((group) =>
          rule.resources.flatMap((resource) => rule.verbs.map((verb) => `${group}/${resource}/${verb}`)),
        ),
      ),
    );
    const called = kubeCalls();
    expect(called.size).toBeGreaterThan(8);
    expect([...granted].sort()).toEqual([...called].sort());
    for (const rule of role.rules as Rule[]) {
      expect(rule.verbs).not.toContain('*');
      expect(rule.resources).not.toContain('*');
      expect(rule.resources).not.toContain('secrets');
    }

    const binding = named<
      K8sObject & { roleRef: { kind: string; name: string }; subjects: Array<{ kind: string; name: string }> }
    >(objects, 'ClusterRoleBinding', 'meshops');
    expect(binding.roleRef).toMatchObject({ kind: 'ClusterRole', name: 'meshops' });
    // The same Google service account the worker's pods act as.
    const worker = render('deploy/overlays/socket').find(
      (o) => o.kind === 'ServiceAccount' && o.metadata.name === 'meshops-worker',
    )!;
    expect(binding.subjects).toEqual([
      {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'User',
        name: worker.metadata.annotations!['iam.gke.io/gcp-service-account'],
      },
    ]);
  });
});
