/**
 * The README against the code it describes: the set-up is two commands, and "Run it for real" names
 * only paths that exist, variables of the runtime contract, the Secret keys the manifests read, the
 * service account the Deployments run as, and IAM roles that deploy/README.md explains.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { runtimeContract } from '../../src/config.js';
import { filesUnder } from '../support/files.js';

const readme = readFileSync('README.md', 'utf8');
const deployReadme = readFileSync('deploy/README.md', 'utf8');

/** The text of a section, from its `## title` to the next `## `. */
function section(title: string): string {
  const start = readme.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`README has no section "${title}"`);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

function codeBlocks(text: string): string[] {
  return [...text.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
}

/** Every value of `key` anywhere in the YAML documents under deploy/. */
function valuesOf(key: string): string[] {
  const found: string[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        if (k === key && v && typeof v === 'object') found.push(JSON.stringify(v));
        visit(v);
      }
    }
  };
  for (const file of filesUnder('deploy', '.yaml')) {
    for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) visit(doc.toJS());
  }
  return found;
}

describe('README', () => {
  const real = section('Run it for real');
  const commands = codeBlocks(real).join('\n');

  it('keeps the set-up at two commands', () => {
    const [setup] = codeBlocks(section('Set-up'));
    expect(
      setup
        ?.trim()
        .split('\n')
        .map((line) => line.replace(/\s+#.*$/, '')),
    ).toEqual(['npm ci && npm start', 'npm ci && npm test']);
  });

  it('"Run it for real" names only paths that exist', () => {
    // Not a URL's /slack/events, nor kubectl's deploy/NAME (a Deployment).
    const paths = [...real.matchAll(/(?<![\w/])((?:deploy|slack)\/[\w./-]*\w)/g)]
      .map((m) => m[1] ?? '')
      .filter((path) => !path.startsWith('deploy/meshops-'));
    expect(paths.length).toBeGreaterThan(10);
    expect(paths.filter((path) => !existsSync(path))).toEqual([]);
  });

  it('names only variables of the runtime contract', () => {
    const names = new Set(
      [...real.matchAll(/\b((?:SLACK|MESHOPS|REDIS)_[A-Z_]+)\b/g)].map((m) => m[1] ?? ''),
    );
    expect([...names].filter((name) => !runtimeContract.includes(name))).toEqual([]);
    expect(names).toContain('MESHOPS_APPROVERS');
  });

  it('creates the Secret with the keys the Deployments read from it', () => {
    const created = new Set([...commands.matchAll(/--from-literal ([A-Z_]+)=/g)].map((m) => m[1]));
    const read = new Set(
      valuesOf('secretKeyRef').map((ref) => (JSON.parse(ref) as { name: string; key: string }).key),
    );
    expect([...created].sort()).toEqual([...read].sort());
    expect(valuesOf('secretKeyRef').every((ref) => ref.includes('"name":"meshops"'))).toBe(true);
  });

  it('binds Workload Identity for the worker service account of deploy/base, and each role in one command', () => {
    expect(readFileSync('deploy/base/serviceaccounts.yaml', 'utf8')).toContain('name: meshops-worker');
    expect(commands).toContain('serviceAccount:$PROJECT_ID.svc.id.goog[meshops/meshops-worker]');
    const lines = commands.split('\n');
    const bindings = lines.filter((line) => line.includes('add-iam-policy-binding'));
    // One gcloud command per line: none is continued with a backslash.
    expect(bindings.filter((line) => line.trimEnd().endsWith('\\'))).toEqual([]);
    const roles = bindings.map((line) => /--role (\S+)/.exec(line)?.[1] ?? '');
    expect(roles).toEqual([
      'roles/iam.workloadIdentityUser',
      'roles/gkehub.admin',
      'roles/container.clusterViewer',
      'projects/$P/roles/meshopsClusterLabels',
      'roles/browser',
      'roles/serviceusage.serviceUsageViewer',
    ]);
    // deploy/README.md explains each one (and the alternatives).
    for (const role of roles) expect(deployReadme).toContain(role);
  });
});
