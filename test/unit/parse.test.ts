import { MAX_COMMAND_LENGTH, parseClusterRef } from '../../src/handlers/grammar.js';
import { parseMeshCommand, usage, usageFor, verbs } from '../../src/handlers/registry.js';

/** Why a line is not a command ('' if it is one). */
function reasonOf(text: string): string {
  const parsed = parseMeshCommand(text);
  return 'invalid' in parsed ? parsed.invalid : '';
}

/** The command a line reads as, or its reason. */
function read(text: string, aliases: Record<string, string> = {}): unknown {
  const parsed = parseMeshCommand(text, aliases);
  return 'invalid' in parsed ? parsed : { verb: parsed.verb, ...(parsed.command as object) };
}

describe('parseMeshCommand', () => {
  it('reads enable cluster with namespaces and restart', () => {
    expect(read('enable cluster proj-a/us-central1/c1 namespaces=default,shop restart=false')).toEqual({
      verb: 'enable',
      kind: 'enable-cluster',
      cluster: { project: 'proj-a', location: 'us-central1', name: 'c1' },
      namespaces: ['default', 'shop'],
      restart: false,
    });
  });

  it('defaults to no namespaces and restart=true, and dedupes namespaces', () => {
    expect(read('  enable   cluster proj-a/us-central1-a/c1 ')).toMatchObject({
      namespaces: [],
      restart: true,
    });
    expect(read('enable cluster proj-a/us-central1/c1 namespaces=shop,shop,default')).toMatchObject({
      namespaces: ['shop', 'default'],
    });
  });

  it('reads dry-run=true on enable cluster, inject, uninject, disable and a batch of enable cluster', () => {
    expect(read('enable cluster proj-a/us-central1/c1 namespaces=shop dry-run=true')).toEqual({
      verb: 'enable',
      kind: 'enable-cluster',
      cluster: { project: 'proj-a', location: 'us-central1', name: 'c1' },
      namespaces: ['shop'],
      restart: true,
      dryRun: true,
    });
    for (const text of [
      'inject proj-a/us-central1/c1 shop dry-run=true',
      'uninject proj-a/us-central1/c1 shop dry-run=true',
      'disable cluster proj-a/us-central1/c1 unregister=true dry-run=true',
    ])
      expect(read(text)).toMatchObject({ dryRun: true });
    // false reads as no dry run at all: the command is the one without the option.
    expect(read('inject proj-a/us-central1/c1 shop dry-run=false')).toEqual(
      read('inject proj-a/us-central1/c1 shop'),
    );
    expect(reasonOf('enable cluster proj-a/us-central1/c1 dry-run=yes')).toBe(
      '`dry-run=` takes true or false',
    );
    expect(reasonOf('disable cluster proj-a/us-central1/c1 dry-run=true dry-run=true')).toBe(
      '`dry-run=` is given twice',
    );
    expect(reasonOf('inject proj-a/us-central1/c1 shop dryrun=true')).toBe(
      'unknown option `dryrun=`: use restart=, fleet=, dry-run=',
    );
    // A batch: the clusters resolved as the real batch resolves them, then a dry run of each.
    expect(read('enable cluster proj-a/-/prod-* proj-b/us-east1/api-1 label:env=dev dry-run=true')).toEqual({
      verb: 'enable',
      kind: 'enable-batch',
      targets: ['proj-a/-/prod-*', 'proj-b/us-east1/api-1'],
      labels: { env: 'dev' },
      namespaces: [],
      restart: true,
      dryRun: true,
    });
    expect(read('enable cluster proj-a/us-central1/c1 label:env=dev dry-run=true')).toMatchObject({
      kind: 'enable-batch',
      dryRun: true,
    });
    expect(read('enable cluster proj-a/-/prod-* dry-run=false')).toEqual(
      read('enable cluster proj-a/-/prod-*'),
    );
    // Bad combinations keep a clear reason.
    expect(reasonOf('enable cluster proj-a/-/prod-* dry-run=yes')).toBe('`dry-run=` takes true or false');
    expect(reasonOf('enable cluster label:env=dev dry-run=true')).toMatch(/^which cluster\?/);
    expect(reasonOf('enable cluster proj-a/-/prod-* prod-2 dry-run=true')).toBe(
      '`prod-2` is not an option (namespaces=, restart=, fleet=, dry-run=) nor a cluster reference',
    );
    for (const text of [
      'inject proj-a/-/prod-* shop dry-run=true',
      'disable cluster proj-a/us-central1/prod-* dry-run=true',
    ])
      expect(reasonOf(text)).toContain(
        'is a pattern: only `enable cluster` takes patterns (a batch; `dry-run=true` plans one). Give one PROJECT/LOCATION/CLUSTER',
      );
  });

  it('reads several clusters, patterns and label filters as one batch', () => {
    expect(
      read(
        'enable cluster proj-a/us-central1/c1 proj-b/-/prod-* proj-a/us-central1/c1 label:env=dev namespaces=shop',
        {
          edge: 'proj-c/europe-west1/edge-1',
        },
      ),
    ).toEqual({
      verb: 'enable',
      kind: 'enable-batch',
      targets: ['proj-a/us-central1/c1', 'proj-b/-/prod-*'],
      labels: { env: 'dev' },
      namespaces: ['shop'],
      restart: true,
    });
    // One pattern, or one cluster with a label filter, is a batch too: the list is shown first.
    expect(read('enable cluster proj-a/us-central1/*')).toMatchObject({ kind: 'enable-batch' });
    expect(read('enable cluster proj-a/us-central1/c1 label:team=shop')).toMatchObject({
      kind: 'enable-batch',
      labels: { team: 'shop' },
    });
    expect(read('enable cluster edge proj-a/-/c*', { edge: 'proj-c/europe-west1/edge-1' })).toMatchObject({
      targets: ['proj-c/europe-west1/edge-1', 'proj-a/-/c*'],
    });
  });

  it.each([
    ['enable cluster proj-a/-/c1 Proj/-/*', /not a valid project ID/],
    ['enable cluster proj-a/mars/*', /not a location/],
    ['enable cluster proj-a/-/Prod_*', /not a cluster name or pattern/],
    ['enable cluster proj-a/-/* label:Env=dev', /not a label filter/],
    ['enable cluster proj-a/-/* label:env', /not a label filter/],
    [
      `enable cluster ${Array.from({ length: 51 }, (_, i) => `proj-a/us-central1/c${i}`).join(' ')}`,
      /more than one command takes \(50\)/,
    ],
  ])('refuses the batch %j', (text, reason) => {
    expect(reasonOf(text)).toMatch(reason);
  });

  it('accepts the full resource name and aliases', () => {
    expect(read('enable cluster projects/proj-a/locations/us-central1/clusters/c1')).toMatchObject({
      cluster: { project: 'proj-a', location: 'us-central1', name: 'c1' },
    });
    expect(read('enable cluster prod', { prod: 'proj-a/europe-west1/prod-1' })).toMatchObject({
      cluster: { project: 'proj-a', location: 'europe-west1', name: 'prod-1' },
    });
  });

  it.each([
    // Found by the fuzzer: Object's own properties are neither aliases nor options.
    ['watch __proto__', /not a cluster reference/],
    ['enable cluster constructor', /not a cluster reference/],
    ['enable cluster proj-a/us-central1/c1 constructor=1', /unknown option `constructor=`/],
    ['enable cluster ;;;', /not a cluster reference/],
    ['enable cluster', /which cluster/],
    ['enable namespace proj-a/us-central1/c1', /takes `cluster`/],
    ['enable cluster proj-a/us-central1/c1 namespaces=Shop', /not a namespace name/],
    ['enable cluster proj-a/us-central1/c1 namespaces=', /not a namespace name/],
    ['enable cluster proj-a/us-central1/c1 restart=maybe', /takes true or false/],
    ['enable cluster proj-a/us-central1/c1 colour=blue', /unknown option/],
    ['enable cluster proj-a/us-central1/c1 restart=true restart=false', /given twice/],
    ['enable cluster proj-a/us-central1/c1 --force', /not an option/],
    ['enable cluster P/us-central1/c1', /not a valid project ID/],
    ['enable cluster proj-a/moon/c1', /not a valid location/],
    ['enable cluster proj-a/us-central1/C_1', /not a valid cluster name/],
    ['enable cluster プロジェクト/東京/クラスタ', /not a valid project ID/],
    ['enable cluster proj-a/us-central1/c1 namespaces=déjà', /not a namespace name/],
    ['explode everything', /unknown command `explode`/],
    ['🚀', /unknown command/],
  ])('refuses %j', (text, reason) => {
    const parsed = parseMeshCommand(text);
    expect('invalid' in parsed && parsed.invalid).toMatch(reason);
  });

  it('refuses a 5,000-character command without echoing it', () => {
    const parsed = parseMeshCommand(`enable cluster ${'x'.repeat(5000)}`);
    expect(parsed).toEqual({ invalid: 'the command is 5015 characters long; the limit is 4000' });
  });

  it('answers help for empty text and help', () => {
    expect(read('')).toEqual({ verb: 'help' });
    expect(read('help')).toEqual({ verb: 'help' });
  });

  it('generates the usage from the registry: every available verb, with its form', () => {
    const text = usage();
    for (const verb of verbs) expect(text).toContain(`\`/mesh ${verb.usage}\``);
    expect(verbs.map((v) => v.name)).toEqual([
      'enable',
      'inject',
      'uninject',
      'disable',
      'config',
      'status',
      'watch',
      'unwatch',
      'list',
      'cancel',
      'help',
    ]);
    expect(read('disable cluster proj-a/us-central1/c1 unregister=true')).toEqual({
      verb: 'disable',
      cluster: { project: 'proj-a', location: 'us-central1', name: 'c1' },
      unregister: true,
      restart: true,
    });
    expect(read('inject proj-a/us-central1/c1 shop shop default restart=false')).toEqual({
      verb: 'inject',
      cluster: { project: 'proj-a', location: 'us-central1', name: 'c1' },
      namespaces: ['shop', 'default'],
      restart: false,
    });
    // `namespaces=a,b` as enable cluster writes it (meshops' own hints do), with or besides the names.
    expect(read('inject proj-a/us-central1/c1 namespaces=default,shop restart=false')).toEqual(
      read('inject proj-a/us-central1/c1 default shop restart=false'),
    );
    expect(read('uninject proj-a/us-central1/c1 shop namespaces=default')).toEqual(
      read('uninject proj-a/us-central1/c1 shop default'),
    );
    expect(reasonOf('inject proj-a/us-central1/c1 namespaces=')).toContain('which namespaces?');
    expect(reasonOf('inject proj-a/us-central1/c1 namespaces=Shop')).toContain('is not a namespace name');
    expect(reasonOf('uninject proj-a/us-central1/c1')).toContain('which namespaces?');
    expect(reasonOf('inject proj-a/us-central1/c1 Shop')).toContain('is not a namespace name');
    expect(read('cancel rmx4jskw103dba6')).toEqual({ verb: 'cancel', runId: 'rmx4jskw103dba6' });
    expect(parseMeshCommand('cancel ;;')).toEqual({ invalid: '`;;` is not a run id', verb: 'cancel' });
    // A malformed command is answered with the right form of the verb it tried, or all the forms.
    expect(usageFor('cancel')).toBe(
      'Usage: `/mesh cancel RUN_ID` — e.g. `/mesh cancel rmx4jskw103dba6`. `/mesh help` lists every command.',
    );
    expect(usageFor(undefined)).toContain('`/mesh enable cluster PROJECT/LOCATION/CLUSTER');
    expect(usageFor(undefined).length).toBeLessThan(1000);
  });

  it('keeps quoted input short in its reasons', () => {
    const parsed = parseMeshCommand(`enable cluster ${'a/'.repeat(200)}`.slice(0, MAX_COMMAND_LENGTH));
    expect('invalid' in parsed && parsed.invalid.length).toBeLessThan(200);
  });

  it('parses cluster refs alone', () => {
    expect(parseClusterRef('a/b', {})).toMatch(/not a cluster reference/);
  });
});
