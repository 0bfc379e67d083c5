import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const url = z.url();
const nullableString = z.string().min(1).nullable();
const positiveInt = z.number().int().positive();
const slackPrincipal = z
  .string()
  .regex(/^[UWS][A-Z0-9]+$/, 'a Slack user ID (U012ABC, W012ABC) or user-group ID (S012ABC)');
const projectGlob = z.string().regex(/^[a-z0-9*?][a-z0-9*?-]*$/, 'a project ID or glob such as prod-*');

export const configSchema = z
  .object({
    slack: z.strictObject({
      botToken: nullableString,
      signingSecret: nullableString,
      appToken: nullableString,
      apiUrl: url,
    }),
    outbox: z.strictObject({
      concurrency: positiveInt,
      messagesPerSecond: z.number().positive(),
      burst: positiveInt,
      updatesPerSecond: z.number().positive(),
      updateBurst: positiveInt,
    }),
    http: z.strictObject({ port: z.number().int().min(0).max(65535), host: nullableString }),
    role: z.enum(['all', 'web', 'worker']),
    redis: z
      .strictObject({
        url: url,
        // `{meshops}`: hash-tagged, so every key (BullMQ's too) is in one slot of a Redis Cluster.
        prefix: z
          .string()
          .regex(
            /^(\{[\w.-]+\}|[\w.-]+)$/,
            'letters, digits, . _ - or all of it in braces, such as {meshops}',
          ),
        /** Connect with the Redis Cluster client (Memorystore for Redis Cluster); the prefix must be hash-tagged. */
        cluster: z.boolean(),
      })
      .refine((redis) => !redis.cluster || redis.prefix.startsWith('{'), {
        path: ['prefix'],
        message: 'on a Redis Cluster (redis.cluster: true) the prefix must be hash-tagged, such as {meshops}',
      }),
    google: z.strictObject({
      accessToken: nullableString,
      gkehubUrl: url,
      containerUrl: url,
      serviceusageUrl: url,
      resourcemanagerUrl: url,
      /** Connect Gateway: the Kubernetes API of a fleet member reached through Google (kube.access). */
      connectgatewayUrl: url,
      retry: z.strictObject({ attempts: positiveInt, baseDelayMs: positiveInt, maxDelayMs: positiveInt }),
    }),
    approvals: z.strictObject({
      approvers: z.array(slackPrincipal),
      twoApprovers: z.array(projectGlob),
      allowSelfApproval: z.boolean(),
      timeoutMs: positiveInt,
    }),
    access: z.strictObject({
      requesters: z.array(slackPrincipal),
      channels: z.array(z.string().regex(/^[CGD][A-Z0-9]+$/, 'a Slack channel ID such as C012ABC')),
      projects: z.array(projectGlob),
    }),
    notify: z.strictObject({ channel: nullableString }),
    watch: z.strictObject({
      intervalMs: positiveInt,
      deepEvery: positiveInt,
      sampleLimit: positiveInt,
      afterEnable: z.boolean(),
      concurrency: positiveInt,
    }),
    kube: z.strictObject({
      /**
       * How the clusters' API servers are reached: `direct` at the cluster's endpoint, `gateway` through
       * Connect Gateway (the cluster's fleet membership), `auto` the gateway only for a cluster whose
       * endpoint is private only.
       */
      access: z.enum(['direct', 'gateway', 'auto']),
    }),
    fleet: z.strictObject({
      membershipLocation: z.string().min(1),
      enableServices: z.boolean(),
      removeMeshIdOnDisable: z.boolean(),
      /**
       * Fleet host projects: clusters of a project the pattern matches are registered in `host`'s fleet
       * (first match wins; `fleet=HOST` on a command overrides). None: each cluster's own project.
       */
      hostProjects: z.array(
        z.strictObject({
          projects: projectGlob,
          host: z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'a project ID such as fleet-host'),
        }),
      ),
    }),
    mesh: z.strictObject({
      channel: z.enum(['rapid', 'regular', 'stable']).nullable(),
      caPool: z
        .string()
        .regex(
          /^projects\/[^/\s]+\/locations\/[^/\s]+\/caPools\/[^/\s:]+(:projects\/[^/\s]+\/locations\/[^/\s]+\/certificateTemplates\/[^/\s]+)?$/,
          'a CA Service pool: projects/P/locations/L/caPools/POOL',
        )
        .nullable(),
    }),
    polling: z.strictObject({
      intervalMs: positiveInt.nullable(),
      initialMs: positiveInt,
      factor: z.number().min(1),
      maxMs: positiveInt,
    }),
    timeouts: z.strictObject({
      provisioningMs: positiveInt,
      operationMs: positiveInt,
      verifyMs: positiveInt,
    }),
    restart: z.strictObject({ statefulSets: z.boolean(), daemonSets: z.boolean() }),
    worker: z.strictObject({
      concurrency: positiveInt,
      lockDurationMs: positiveInt,
      stalledIntervalMs: positiveInt,
      attempts: positiveInt,
      retryDelayMs: positiveInt,
    }),
    aliases: z.record(
      z.string(),
      z.string().regex(/^[^/\s]+\/[^/\s]+\/[^/\s]+$/, 'PROJECT/LOCATION/CLUSTER'),
    ),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The world is not as the config says (Redis away, the port taken): one line that names the setting and the fix. */
export class StartupError extends Error {
  override name = 'StartupError';
}

/** A Redis URL fit for a message: any password replaced. */
export function redactedUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '(unparsable URL)';
  }
}

type Env = Record<string, string | undefined>;
type Tree = Record<string, unknown>;

/** Every environment variable of the runtime contract, and where it lands in the config tree. */
const envOverrides: ReadonlyArray<[string, string[], (raw: string) => unknown]> = [
  ['SLACK_BOT_TOKEN', ['slack', 'botToken'], String],
  ['SLACK_SIGNING_SECRET', ['slack', 'signingSecret'], String],
  ['SLACK_APP_TOKEN', ['slack', 'appToken'], String],
  ['SLACK_API_URL', ['slack', 'apiUrl'], String],
  ['PORT', ['http', 'port'], toNumber],
  ['REDIS_URL', ['redis', 'url'], String],
  ['MESHOPS_GCP_ACCESS_TOKEN', ['google', 'accessToken'], String],
  ['MESHOPS_GKEHUB_URL', ['google', 'gkehubUrl'], String],
  ['MESHOPS_CONTAINER_URL', ['google', 'containerUrl'], String],
  ['MESHOPS_SERVICEUSAGE_URL', ['google', 'serviceusageUrl'], String],
  ['MESHOPS_RESOURCEMANAGER_URL', ['google', 'resourcemanagerUrl'], String],
  ['MESHOPS_CONNECTGATEWAY_URL', ['google', 'connectgatewayUrl'], String],
  ['MESHOPS_APPROVERS', ['approvals', 'approvers'], toList],
  ['MESHOPS_TWO_APPROVERS', ['approvals', 'twoApprovers'], toList],
  ['MESHOPS_NOTIFY_CHANNEL', ['notify', 'channel'], String],
  ['MESHOPS_POLL_INTERVAL_MS', ['polling', 'intervalMs'], toNumber],
  ['MESHOPS_ROLE', ['role'], String],
];

/** The names of the runtime contract, for the checks that docker-compose.yml, .env.example and deploy/ use no other. */
export const runtimeContract: readonly string[] = ['MESHOPS_CONFIG', ...envOverrides.map(([name]) => name)];

function toNumber(raw: string): unknown {
  return /^\d+$/.test(raw.trim()) ? Number(raw) : raw;
}

function toList(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function isTree(value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function merge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isTree(current) && isTree(value) && key !== 'aliases' ? merge(current, value) : value;
  }
  return out;
}

function setPath(tree: Tree, path: string[], value: unknown): void {
  let node = tree;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (!isTree(next)) node[key] = {};
    node = node[key] as Tree;
  }
  node[path[path.length - 1]!] = value;
}

function findDefaults(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'config', 'default.yaml');
    try {
      readFileSync(candidate);
      return candidate;
    } catch {
      dir = dirname(dir);
    }
  }
  throw new ConfigError('config/default.yaml not found next to the meshops sources');
}

function readYaml(file: string): Tree {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${file}: ${(error as Error).message}`);
  }
  const parsed: unknown = parseYaml(text);
  if (parsed === null || parsed === undefined) return {};
  if (!isTree(parsed)) throw new ConfigError(`${file} must hold a YAML mapping`);
  return parsed;
}

/**
 * The only reader of the environment: defaults, then MESHOPS_CONFIG, then the runtime contract's
 * variables. An invalid result throws a ConfigError that names the bad key.
 */
export function loadConfig(env: Env = process.env, extra: Tree = {}): Config {
  let tree = readYaml(findDefaults());
  if (env.MESHOPS_CONFIG) tree = merge(tree, readYaml(env.MESHOPS_CONFIG));
  tree = merge(tree, extra);
  for (const [name, path, convert] of envOverrides) {
    const raw = env[name];
    if (raw !== undefined && raw !== '') setPath(tree, path, convert(raw));
  }
  const result = configSchema.safeParse(tree);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const key = issue.path.join('.') || '(root)';
      const variable = envOverrides.find(([, path]) => `${key}.`.startsWith(`${path.join('.')}.`))?.[0];
      return `${key}${variable ? ` (${variable})` : ''}: ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return result.data;
}

/** Local mode: no Slack and no Google credentials, so the built-in emulator stands in for both. */
export function isLocalMode(config: Config): boolean {
  const { botToken, signingSecret, appToken } = config.slack;
  return !botToken && !signingSecret && !appToken && !config.google.accessToken;
}

/**
 * Whether the environment names the Redis (REDIS_URL). Local mode then uses that one or stops with
 * the error; only without it may local mode start a redis-server of its own.
 */
export function redisUrlGiven(env: Env = process.env): boolean {
  return Boolean(env.REDIS_URL);
}
