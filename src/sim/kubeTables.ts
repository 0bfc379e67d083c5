/**
 * Server-side printing (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`), which `kubectl get` asks
 * for: the columns kube-apiserver prints for the kinds the sim serves, and NAME/AGE for the rest (as for a
 * CRD without printer columns). AGE is counted on the sim's clock, so it is right however fast the sim runs.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { isJsonObject, type JsonObject, type JsonValue } from './json.js';

interface Column {
  name: string;
  type: 'string' | 'integer' | 'date';
  /** 1: only with `-o wide`. */
  priority?: number;
  cell(object: JsonObject, now: number): string | number;
}

/** k8s.io/apimachinery's duration.HumanDuration, which AGE columns use. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  const withRest = (big: number, bigUnit: string, rest: number, restUnit: string): string =>
    rest === 0 ? `${big}${bigUnit}` : `${big}${bigUnit}${rest}${restUnit}`;
  if (minutes < 10) return withRest(minutes, 'm', seconds % 60, 's');
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return withRest(hours, 'h', minutes % 60, 'm');
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 8) return withRest(days, 'd', hours % 24, 'h');
  if (days < 365 * 2) return `${days}d`;
  const years = Math.floor(days / 365);
  if (days < 365 * 8) return withRest(years, 'y', days % 365, 'd');
  return `${years}y`;
}

function field(object: JsonValue | undefined, path: string): JsonValue | undefined {
  return path
    .split('.')
    .reduce<JsonValue | undefined>((node, key) => (isJsonObject(node) ? node[key] : undefined), object);
}

function text(object: JsonObject, path: string, fallback = '<none>'): string {
  const value = field(object, path);
  return typeof value === 'string' || typeof value === 'number' ? String(value) : fallback;
}

function count(object: JsonObject, path: string): number {
  const value = field(object, path);
  return typeof value === 'number' ? value : 0;
}

function list(object: JsonObject, path: string): JsonObject[] {
  const value = field(object, path);
  return Array.isArray(value) ? value.filter(isJsonObject) : [];
}

const name: Column = { name: 'Name', type: 'string', cell: (o) => text(o, 'metadata.name') };
const age: Column = {
  name: 'Age',
  type: 'date',
  cell: (o, now) => humanDuration(now - Date.parse(text(o, 'metadata.creationTimestamp', ''))),
};

const replicasReady: Column = {
  name: 'Ready',
  type: 'string',
  cell: (o) => `${count(o, 'status.readyReplicas')}/${count(o, 'spec.replicas')}`,
};

/** Containers that count for READY: the app containers and native sidecars. */
function podContainers(pod: JsonObject): { names: string[]; ready: number; waiting?: string } {
  const sidecars = list(pod, 'spec.initContainers').filter((c) => c.restartPolicy === 'Always');
  const names = [...list(pod, 'spec.containers'), ...sidecars].map((c) => text(c, 'name'));
  const statuses = [...list(pod, 'status.containerStatuses'), ...list(pod, 'status.initContainerStatuses')];
  const counted = statuses.filter((s) => names.includes(text(s, 'name')));
  const waiting = counted.map((s) => field(s, 'state.waiting.reason')).find((r) => typeof r === 'string');
  return {
    names,
    ready: counted.filter((s) => s.ready === true).length,
    ...(typeof waiting === 'string' ? { waiting } : {}),
  };
}

const columns: Record<string, Column[]> = {
  Namespace: [name, { name: 'Status', type: 'string', cell: (o) => text(o, 'status.phase') }, age],
  Pod: [
    name,
    {
      name: 'Ready',
      type: 'string',
      cell: (o) => `${podContainers(o).ready}/${podContainers(o).names.length}`,
    },
    { name: 'Status', type: 'string', cell: (o) => podContainers(o).waiting ?? text(o, 'status.phase') },
    { name: 'Restarts', type: 'string', cell: () => '0' },
    age,
    { name: 'IP', type: 'string', priority: 1, cell: (o) => text(o, 'status.podIP') },
    { name: 'Node', type: 'string', priority: 1, cell: (o) => text(o, 'spec.nodeName') },
    { name: 'Nominated Node', type: 'string', priority: 1, cell: () => '<none>' },
    { name: 'Readiness Gates', type: 'string', priority: 1, cell: () => '<none>' },
  ],
  Deployment: [
    name,
    replicasReady,
    { name: 'Up-to-date', type: 'integer', cell: (o) => count(o, 'status.updatedReplicas') },
    { name: 'Available', type: 'integer', cell: (o) => count(o, 'status.availableReplicas') },
    age,
  ],
  ReplicaSet: [
    name,
    { name: 'Desired', type: 'integer', cell: (o) => count(o, 'spec.replicas') },
    { name: 'Current', type: 'integer', cell: (o) => count(o, 'status.replicas') },
    { name: 'Ready', type: 'integer', cell: (o) => count(o, 'status.readyReplicas') },
    age,
  ],
  StatefulSet: [name, replicasReady, age],
  DaemonSet: [
    name,
    { name: 'Desired', type: 'integer', cell: (o) => count(o, 'status.desiredNumberScheduled') },
    { name: 'Current', type: 'integer', cell: (o) => count(o, 'status.currentNumberScheduled') },
    { name: 'Ready', type: 'integer', cell: (o) => count(o, 'status.numberReady') },
    { name: 'Up-to-date', type: 'integer', cell: (o) => count(o, 'status.updatedNumberScheduled') },
    { name: 'Available', type: 'integer', cell: (o) => count(o, 'status.numberAvailable') },
    { name: 'Node Selector', type: 'string', cell: () => '<none>' },
    age,
  ],
  ConfigMap: [
    name,
    { name: 'Data', type: 'integer', cell: (o) => Object.keys(field(o, 'data') ?? {}).length },
    age,
  ],
  Event: [
    {
      name: 'Last Seen',
      type: 'string',
      cell: (o, now) => humanDuration(now - Date.parse(text(o, 'lastTimestamp', ''))),
    },
    { name: 'Type', type: 'string', cell: (o) => text(o, 'type') },
    { name: 'Reason', type: 'string', cell: (o) => text(o, 'reason') },
    {
      name: 'Object',
      type: 'string',
      cell: (o) => `${text(o, 'involvedObject.kind').toLowerCase()}/${text(o, 'involvedObject.name')}`,
    },
    { name: 'Message', type: 'string', cell: (o) => text(o, 'message') },
  ],
  PodDisruptionBudget: [
    name,
    { name: 'Min Available', type: 'string', cell: (o) => text(o, 'spec.minAvailable', 'N/A') },
    { name: 'Max Unavailable', type: 'string', cell: (o) => text(o, 'spec.maxUnavailable', 'N/A') },
    { name: 'Allowed Disruptions', type: 'integer', cell: (o) => count(o, 'status.disruptionsAllowed') },
    age,
  ],
};

/** Whether the client asked for a Table (kubectl get does; typed clients and `-o json` do not). */
export function wantsTable(headers: IncomingHttpHeaders): boolean {
  const accept = headers.accept ?? '';
  return accept
    .split(',')
    .some(
      (type) => /;\s*as=Table/.test(type) && /;\s*g=meta\.k8s\.io/.test(type) && /;\s*v=v1(;|$)/.test(type),
    );
}

function partialMetadata(object: JsonObject): JsonObject {
  return {
    kind: 'PartialObjectMetadata',
    apiVersion: 'meta.k8s.io/v1',
    metadata: isJsonObject(object.metadata) ? object.metadata : {},
  };
}

/**
 * `body` (a list, or one object) as a Table of `kind`'s columns; `withColumns: false` for a watch event after
 * the first, which kube-apiserver sends without column definitions. Anything else (a Status) is returned as is.
 */
export function asTable(body: JsonValue, now: number, withColumns = true): JsonValue {
  if (!isJsonObject(body) || typeof body.kind !== 'string' || body.kind === 'Status') return body;
  const isList = body.kind.endsWith('List') && Array.isArray(body.items);
  const kind = isList ? body.kind.slice(0, -'List'.length) : body.kind;
  const objects = isList ? list(body, 'items') : [body];
  const shown = columns[kind] ?? [name, age];
  const metadata = isList && isJsonObject(body.metadata) ? body.metadata : {};
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata,
    columnDefinitions: withColumns
      ? shown.map((c) => ({
          name: c.name,
          type: c.type === 'date' ? 'string' : c.type,
          format: c === name ? 'name' : '',
          description: '',
          priority: c.priority ?? 0,
        }))
      : null,
    rows: objects.map((object) => ({
      cells: shown.map((c) => c.cell(object, now)),
      object: partialMetadata(object),
    })),
  };
}
