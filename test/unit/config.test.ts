import { spawnSync } from 'node:child_process';
import { ConfigError, isLocalMode, loadConfig } from '../../src/config.js';
import { writeConfigFile } from '../support/child.js';

describe('config', () => {
  it('has safe defaults and Google public endpoints', () => {
    const config = loadConfig({});
    expect(config.http.port).toBe(3000);
    expect(config.redis.url).toBe('redis://127.0.0.1:6379');
    expect(config.google.gkehubUrl).toBe('https://gkehub.googleapis.com/');
    expect(config.approvals).toEqual({
      approvers: [],
      twoApprovers: [],
      allowSelfApproval: false,
      timeoutMs: 86_400_000,
    });
    expect(config.access).toEqual({ requesters: [], channels: [], projects: [] });
    expect(config.fleet.membershipLocation).toBe('auto');
    expect(isLocalMode(config)).toBe(true);
  });

  it('honours every variable of the runtime contract', () => {
    const config = loadConfig({
      SLACK_BOT_TOKEN: 'xoxb-1',
      SLACK_SIGNING_SECRET: 's',
      SLACK_APP_TOKEN: 'xapp-1',
      SLACK_API_URL: 'http://127.0.0.1:9/api/',
      PORT: '4000',
      REDIS_URL: 'redis://10.0.0.1:6380',
      MESHOPS_GCP_ACCESS_TOKEN: 'ya29.x',
      MESHOPS_GKEHUB_URL: 'http://127.0.0.1:8085/',
      MESHOPS_CONTAINER_URL: 'http://127.0.0.1:8086/',
      MESHOPS_SERVICEUSAGE_URL: 'http://127.0.0.1:8087/',
      MESHOPS_RESOURCEMANAGER_URL: 'http://127.0.0.1:8088/',
      MESHOPS_APPROVERS: 'U1, S2,,',
      MESHOPS_TWO_APPROVERS: 'prod-*, bank',
      MESHOPS_NOTIFY_CHANNEL: 'C9',
      MESHOPS_POLL_INTERVAL_MS: '250',
    });
    expect(config.slack).toEqual({
      botToken: 'xoxb-1',
      signingSecret: 's',
      appToken: 'xapp-1',
      apiUrl: 'http://127.0.0.1:9/api/',
    });
    expect(config.http.port).toBe(4000);
    expect(config.redis.url).toBe('redis://10.0.0.1:6380');
    expect(config.google).toMatchObject({
      accessToken: 'ya29.x',
      gkehubUrl: 'http://127.0.0.1:8085/',
      containerUrl: 'http://127.0.0.1:8086/',
      serviceusageUrl: 'http://127.0.0.1:8087/',
      resourcemanagerUrl: 'http://127.0.0.1:8088/',
    });
    expect(config.approvals.approvers).toEqual(['U1', 'S2']);
    expect(config.approvals.twoApprovers).toEqual(['prod-*', 'bank']);
    expect(config.notify.channel).toBe('C9');
    expect(config.polling.intervalMs).toBe(250);
    expect(isLocalMode(config)).toBe(false);
  });

  it('merges MESHOPS_CONFIG over the defaults, and the environment over both', () => {
    const file = writeConfigFile({
      approvals: { approvers: ['UFILE'], timeoutMs: 60_000 },
      aliases: { prod: 'p-1234/us-east1/prod' },
    });
    const config = loadConfig({ MESHOPS_CONFIG: file, MESHOPS_APPROVERS: 'UENV' });
    expect(config.approvals).toMatchObject({
      approvers: ['UENV'],
      timeoutMs: 60_000,
      allowSelfApproval: false,
    });
    expect(config.aliases).toEqual({ prod: 'p-1234/us-east1/prod' });
  });

  it.each([
    [{ PORT: 'eighty' }, /http\.port \(PORT\)/],
    [{ MESHOPS_GKEHUB_URL: 'not a url' }, /google\.gkehubUrl \(MESHOPS_GKEHUB_URL\)/],
    [
      { MESHOPS_APPROVERS: 'alice' },
      /approvals\.approvers\.0 \(MESHOPS_APPROVERS\): a Slack user ID \(U012ABC, W012ABC\) or user-group ID \(S012ABC\)/,
    ],
    [{ MESHOPS_POLL_INTERVAL_MS: '-5' }, /polling\.intervalMs \(MESHOPS_POLL_INTERVAL_MS\)/],
  ])('names the bad key: %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('refuses unknown keys in a config file', () => {
    const file = writeConfigFile({ fleet: { membershipLocaton: 'global' } });
    expect(() => loadConfig({ MESHOPS_CONFIG: file })).toThrow(
      /fleet: Unrecognized key: "membershipLocaton"/,
    );
  });

  it('takes a hash-tagged Redis prefix (one slot on a Redis Cluster), and refuses a half-tagged one', () => {
    expect(
      loadConfig({ MESHOPS_CONFIG: writeConfigFile({ redis: { prefix: '{meshops}' } }) }).redis.prefix,
    ).toBe('{meshops}');
    for (const prefix of ['{meshops', 'mesh{ops}', 'mesh ops', '{}']) {
      expect(() => loadConfig({ MESHOPS_CONFIG: writeConfigFile({ redis: { prefix } }) })).toThrow(
        /redis\.prefix: .*such as \{meshops\}/,
      );
    }
  });

  it('stops the process at start with the bad key named', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { PATH: process.env.PATH ?? '', PORT: 'eighty' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('meshops: invalid configuration');
    expect(result.stderr).toContain('http.port (PORT)');
  });
});
