/**
 * slack/manifest.yaml is what an operator pastes into api.slack.com: it must grant every scope
 * the Web API methods meshops calls need, register /mesh with escaping (the grammar reads
 * <#C…|name>), and turn on interactivity (the buttons) and Socket Mode. slack/manifest.http.yaml is
 * the same app over HTTP: both request URLs on /slack/events, Socket Mode off, nothing else changed.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { filesUnder } from '../support/files.js';

interface Manifest {
  features: {
    slash_commands: Array<{ command: string; should_escape: boolean; description: string; url?: string }>;
  };
  oauth_config: { scopes: { bot: string[] } };
  settings: { interactivity: { is_enabled: boolean; request_url?: string }; socket_mode_enabled: boolean };
}

/** The scopes Slack documents for each Web API method meshops calls. */
const scopesOf: Record<string, string[]> = {
  'chat.postMessage': ['chat:write'],
  'chat.postEphemeral': ['chat:write'],
  'chat.update': ['chat:write'],
  'chat.getPermalink': [],
  'conversations.history': ['channels:history', 'groups:history'],
  'conversations.replies': ['channels:history', 'groups:history'],
  'usergroups.users.list': ['usergroups:read'],
};

describe('slack/manifest.yaml', () => {
  const manifest = parse(readFileSync('slack/manifest.yaml', 'utf8')) as Manifest;

  it('registers /mesh with escaping, interactivity and Socket Mode', () => {
    expect(manifest.features.slash_commands).toHaveLength(1);
    expect(manifest.features.slash_commands[0]).toMatchObject({ command: '/mesh', should_escape: true });
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    expect(manifest.settings.socket_mode_enabled).toBe(true);
  });

  it('grants the scopes of every Slack method the product calls', () => {
    const called = new Set(
      filesUnder('src', '.ts', ['sim']).flatMap((file) =>
        [
          ...readFileSync(file, 'utf8').matchAll(
            /\b(?:web|client)\.((?:chat|conversations|usergroups|users)\.[a-zA-Z.]+)\(/g,
          ),
        ].map((m) => m[1]!),
      ),
    );
    expect(called.size).toBeGreaterThan(5);
    const unknown = [...called].filter((method) => !(method in scopesOf));
    expect(unknown).toEqual([]);
    const granted = new Set(manifest.oauth_config.scopes.bot);
    const missing = [...called].flatMap((method) => scopesOf[method]!.filter((scope) => !granted.has(scope)));
    expect(missing).toEqual([]);
    for (const scope of ['commands', 'chat:write', 'usergroups:read', 'users:read'])
      expect(granted.has(scope)).toBe(true);
  });
});

describe('slack/manifest.http.yaml', () => {
  const socket = parse(readFileSync('slack/manifest.yaml', 'utf8')) as Manifest;
  const http = parse(readFileSync('slack/manifest.http.yaml', 'utf8')) as Manifest;

  it('sends /mesh and the buttons to https://HOST/slack/events, with Socket Mode off', () => {
    expect(http.features.slash_commands[0]!.url).toMatch(/^https:\/\/[^/]+\/slack\/events$/);
    expect(http.settings.interactivity.request_url).toBe(http.features.slash_commands[0]!.url);
    expect(http.settings.socket_mode_enabled).toBe(false);
    expect(socket.features.slash_commands[0]!.url).toBeUndefined();
    expect(socket.settings.interactivity.request_url).toBeUndefined();
  });

  it('is otherwise the same app: command, scopes, interactivity', () => {
    const withoutMode = (m: Manifest) => {
      const copy = structuredClone(m);
      delete copy.features.slash_commands[0]!.url;
      delete copy.settings.interactivity.request_url;
      return { ...copy, settings: { ...copy.settings, socket_mode_enabled: null } };
    };
    expect(withoutMode(http)).toEqual(withoutMode(socket));
  });
});
