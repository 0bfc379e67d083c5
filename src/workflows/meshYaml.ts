/**
 * `data.mesh` of the managed mesh's ConfigMap is a YAML string of Istio's MeshConfig (seed 003). An
 * edit goes through the `yaml` package's Document API, so what meshops does not change stays as it
 * was written: other keys, their order, comments, quoting. Pure: text in, text out.
 */
import { isMap, isScalar, parseDocument, type Document } from 'yaml';
import { MeshopsError } from '../errors.js';

/** What `/mesh config` may change: access logs on or off, the tracing sampling percentage. */
export interface MeshSettings {
  accessLog?: boolean;
  /** `defaultConfig.tracing.sampling`, a percentage 0–100. */
  tracingSampling?: number;
}

/** Where Envoy writes access logs when they are on (an empty or absent `accessLogFile` is off). */
export const ACCESS_LOG_FILE = '/dev/stdout';
const SAMPLING_PATH = ['defaultConfig', 'tracing', 'sampling'];

/** Printing never folds long lines (an `accessLogFormat` stays one line, as written). */
const printOptions = { lineWidth: 0, minContentWidth: 0 } as const;

function parsed(mesh: string, where: string): Document {
  const doc = parseDocument(mesh);
  const error = doc.errors[0];
  if (error) {
    throw new MeshopsError(
      'FAILED_PRECONDITION',
      `data.mesh of ${where} is not valid YAML: ${error.message}`,
      {
        hint: `fix it by hand (\`kubectl edit configmap -n istio-system ${where.split('/').pop() ?? ''}\`), then run the command again`,
      },
    );
  }
  if (doc.contents !== null && !isMap(doc.contents)) {
    throw new MeshopsError(
      'FAILED_PRECONDITION',
      `data.mesh of ${where} is not a YAML map of MeshConfig fields`,
      {
        hint: 'fix it by hand, then run the command again',
      },
    );
  }
  return doc;
}

/** A map on the way to a field that is something else (`defaultConfig: 3`) cannot be edited safely. */
function checkPath(doc: Document, path: string[], where: string): void {
  for (let i = 1; i < path.length; i++) {
    const node = doc.getIn(path.slice(0, i), true);
    if (node !== undefined && node !== null && !isMap(node) && !(isScalar(node) && node.value === null)) {
      throw new MeshopsError(
        'FAILED_PRECONDITION',
        `data.mesh of ${where} has \`${path.slice(0, i).join('.')}\` that is not a map`,
        { hint: 'fix it by hand, then run the command again' },
      );
    }
  }
}

/**
 * `mesh` with `settings` applied, every other key, comment and format kept. Access logs on keeps an
 * `accessLogFile` that already names a file (they are on); off removes it (Istio's default: off).
 */
export function editedMeshConfig(mesh: string, settings: MeshSettings, where: string): string {
  const doc = parsed(mesh, where);
  if (settings.accessLog === true) {
    const current: unknown = doc.get('accessLogFile');
    if (typeof current !== 'string' || current === '') doc.set('accessLogFile', ACCESS_LOG_FILE);
  } else if (settings.accessLog === false && isMap(doc.contents)) {
    doc.delete('accessLogFile');
  }
  if (settings.tracingSampling !== undefined) {
    checkPath(doc, SAMPLING_PATH, where);
    doc.setIn(SAMPLING_PATH, settings.tracingSampling);
  }
  const edited = doc.contents === null ? '' : doc.toString(printOptions);
  // Nothing changed: the text stays byte for byte what it was (no reformatting for its own sake).
  return meshSettingsOf(edited, where).equals(meshSettingsOf(mesh, where)) ? mesh : edited;
}

/** What a MeshConfig says about access logs and tracing, as `status` shows it. */
export interface MeshObservability {
  accessLogFile: string | null;
  tracingSampling: number | null;
  /** The tracer `defaultConfig.tracing` names (`stackdriver`, `zipkin`…), null when it names none. */
  tracer: string | null;
  /** The two settings `/mesh config` edits are the same (the tracer is not one of them). */
  equals(other: MeshObservability): boolean;
}

/** The tracers of Istio's `ProxyConfig.Tracing` (a oneof: one is set); the other keys tune sampling and tags. */
const TRACERS = new Set([
  'stackdriver',
  'zipkin',
  'lightstep',
  'datadog',
  'openCensusAgent',
  'open_census_agent',
]);

export function meshSettingsOf(mesh: string, where: string): MeshObservability {
  const doc = parsed(mesh, where);
  const file: unknown = doc.get('accessLogFile');
  const sampling: unknown = doc.getIn(SAMPLING_PATH);
  const accessLogFile = typeof file === 'string' && file !== '' ? file : null;
  const tracingSampling = typeof sampling === 'number' ? sampling : null;
  const tracing: unknown = doc.getIn(SAMPLING_PATH.slice(0, -1), true);
  const tracer = isMap(tracing)
    ? (tracing.items
        .map((pair) => (isScalar(pair.key) ? String(pair.key.value) : ''))
        .find((key) => TRACERS.has(key)) ?? null)
    : null;
  return {
    accessLogFile,
    tracingSampling,
    tracer,
    equals: (other) => other.accessLogFile === accessLogFile && other.tracingSampling === tracingSampling,
  };
}

/**
 * A unified diff of two texts, line by line (`-` removed, `+` added, ` ` kept), with `context` kept
 * lines around each change; empty when they are the same. MeshConfigs are a few dozen lines: a plain
 * longest-common-subsequence table is enough.
 */
export function lineDiff(before: string, after: string, context = 3): string {
  if (before === after) return '';
  const a = before === '' ? [] : before.replace(/\n$/, '').split('\n');
  const b = after === '' ? [] : after.replace(/\n$/, '').split('\n');
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--)
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const lines: Array<{ mark: ' ' | '-' | '+'; text: string }> = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      lines.push({ mark: ' ', text: a[i++]! });
      j++;
    } else if (j < b.length && (i >= a.length || lcs[i]![j + 1]! > lcs[i + 1]![j]!)) {
      lines.push({ mark: '+', text: b[j++]! });
    } else {
      lines.push({ mark: '-', text: a[i++]! });
    }
  }
  const near = lines.map((_, index) =>
    lines.slice(Math.max(0, index - context), index + context + 1).some((line) => line.mark !== ' '),
  );
  const out: string[] = [];
  lines.forEach((line, index) => {
    if (near[index]) out.push(`${line.mark} ${line.text}`);
    else if (index === 0 || near[index - 1]) out.push('  …');
  });
  return out.join('\n');
}
