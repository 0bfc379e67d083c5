/** The MeshConfig edit of `/mesh config`: only the fields asked change; comments, unknown keys and format stay. */
import { editedMeshConfig, lineDiff, meshSettingsOf } from '../../src/workflows/meshYaml.js';

const where = 'istio-system/istio-asm-managed';

/** Seed 003's MeshConfig, with a comment, an unknown key and a long line. */
const seed003 = [
  '# アクセスログの出力と形式',
  'accessLogEncoding: JSON',
  `accessLogFormat: '${'{"start":"%START_TIME%",'.repeat(8)}'`,
  'x-team-setting: keep me # unknown to Istio',
  '# デフォルトで使用する分散トレーシングの機能',
  'defaultConfig:',
  '  holdApplicationUntilProxyStarts: true',
  '  tracing:',
  '    stackdriver: {}',
  '',
].join('\n');

describe('editedMeshConfig', () => {
  it('turns access logs on and sets the tracing sampling, keeping every other key, comment and line', () => {
    const after = editedMeshConfig(seed003, { accessLog: true, tracingSampling: 10 }, where);
    expect(after).toBe(
      [
        '# アクセスログの出力と形式',
        'accessLogEncoding: JSON',
        `accessLogFormat: '${'{"start":"%START_TIME%",'.repeat(8)}'`,
        'x-team-setting: keep me # unknown to Istio',
        '# デフォルトで使用する分散トレーシングの機能',
        'defaultConfig:',
        '  holdApplicationUntilProxyStarts: true',
        '  tracing:',
        '    stackdriver: {}',
        '    sampling: 10',
        'accessLogFile: /dev/stdout',
        '',
      ].join('\n'),
    );
    expect(meshSettingsOf(after, where)).toMatchObject({ accessLogFile: '/dev/stdout', tracingSampling: 10 });
  });

  it('replaces an existing sampling in place and removes accessLogFile for off', () => {
    const before = 'accessLogFile: /dev/stdout # on\ndefaultConfig:\n  tracing:\n    sampling: 1.5 # was\n';
    const after = editedMeshConfig(before, { accessLog: false, tracingSampling: 0.5 }, where);
    expect(after).toBe('defaultConfig:\n  tracing:\n    sampling: 0.5 # was\n');
  });

  it('keeps an accessLogFile that already names a file when access logs are asked on', () => {
    const before = 'accessLogFile: /var/log/envoy.log\n';
    expect(editedMeshConfig(before, { accessLog: true }, where)).toBe(before);
  });

  it('returns the text byte for byte when it already says what is asked', () => {
    const before = "# mine\naccessLogFile:   '/dev/stdout'\ndefaultConfig: {tracing: {sampling: 10}}\n";
    expect(editedMeshConfig(before, { accessLog: true, tracingSampling: 10 }, where)).toBe(before);
  });

  it('writes a MeshConfig from nothing (a ConfigMap that does not exist yet, or an empty data.mesh)', () => {
    expect(editedMeshConfig('', { accessLog: true }, where)).toBe('accessLogFile: /dev/stdout\n');
    expect(editedMeshConfig('', { tracingSampling: 100 }, where)).toBe(
      'defaultConfig:\n  tracing:\n    sampling: 100\n',
    );
    expect(editedMeshConfig('', { accessLog: false }, where)).toBe('');
  });

  it('refuses YAML it cannot edit safely, saying where and how to fix it', () => {
    expect(() => editedMeshConfig('accessLogFile: [', { accessLog: true }, where)).toThrow(
      /data.mesh of istio-system\/istio-asm-managed is not valid YAML/,
    );
    expect(() => editedMeshConfig('- a\n- b\n', { accessLog: true }, where)).toThrow(/not a YAML map/);
    expect(() => editedMeshConfig('defaultConfig: 3\n', { tracingSampling: 1 }, where)).toThrow(
      /`defaultConfig` that is not a map/,
    );
  });
});

describe('meshSettingsOf', () => {
  it('reads access logs, the sampling and the tracer status shows', () => {
    expect(meshSettingsOf(seed003, where)).toMatchObject({
      accessLogFile: null,
      tracingSampling: null,
      tracer: 'stackdriver',
    });
    const zipkin =
      "accessLogFile: ''\ndefaultConfig:\n  tracing:\n    sampling: 2.5\n    zipkin: {address: z:9411}\n";
    expect(meshSettingsOf(zipkin, where)).toMatchObject({
      accessLogFile: null,
      tracingSampling: 2.5,
      tracer: 'zipkin',
    });
    expect(meshSettingsOf('defaultConfig:\n  tracing:\n    sampling: 1\n', where).tracer).toBeNull();
    expect(meshSettingsOf('', where)).toMatchObject({
      accessLogFile: null,
      tracingSampling: null,
      tracer: null,
    });
  });

  it('refuses a data.mesh that is not YAML, saying where', () => {
    expect(() => meshSettingsOf('a: [', where)).toThrow(
      /data.mesh of istio-system\/istio-asm-managed is not valid YAML/,
    );
  });
});

describe('lineDiff', () => {
  it('marks removed and added lines, with context, and is empty for equal texts', () => {
    const before = 'a: 1\nb: 2\nc: 3\n';
    const after = 'a: 1\nb: 20\nc: 3\nd: 4\n';
    expect(lineDiff(before, after)).toBe(['  a: 1', '- b: 2', '+ b: 20', '  c: 3', '+ d: 4'].join('\n'));
    expect(lineDiff(before, before)).toBe('');
    expect(lineDiff('', 'x: 1\n')).toBe('+ x: 1');
  });

  it('elides unchanged lines far from any change', () => {
    const lines = Array.from({ length: 20 }, (_, i) => `k${i}: ${i}`);
    const after = [...lines.slice(0, 10), 'k10: changed', ...lines.slice(11)];
    const diff = lineDiff(`${lines.join('\n')}\n`, `${after.join('\n')}\n`, 1).split('\n');
    expect(diff).toEqual(['  …', '  k9: 9', '- k10: 10', '+ k10: changed', '  k11: 11', '  …']);
  });
});
