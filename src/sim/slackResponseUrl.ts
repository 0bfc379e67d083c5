/** Slash-command and interaction `response_url`s: each is good for 5 posts within 30 minutes. */
import { randomHex } from './ids.js';

export const responseUrlLimits = { uses: 5, lifetimeMs: 30 * 60 * 1000 };

export interface ResponseUrlGrant {
  id: string;
  secret: string;
  user: string;
  channel: string;
  /** The message an interaction came from: what replace_original / delete_original act on. */
  messageTs?: string;
  createdAt: number;
  uses: number;
}

const pathPattern = /^\/commands\/([A-Z0-9]+)\/(\d+)\/([a-zA-Z0-9]+)$/;

export function isResponseUrlPath(path: string): boolean {
  return path.startsWith('/commands/');
}

export class ResponseUrls {
  private readonly grants = new Map<string, ResponseUrlGrant>();
  private nextId = 7_000_000_000_001;

  constructor(private readonly teamId: string) {}

  /** A fresh grant; its path is `/commands/TEAM/ID/SECRET` under the Slack server's base URL. */
  issue(
    user: string,
    channel: string,
    now: number,
    messageTs?: string,
  ): { grant: ResponseUrlGrant; path: string } {
    const grant: ResponseUrlGrant = {
      id: String(this.nextId),
      secret: randomHex(12),
      user,
      channel,
      ...(messageTs === undefined ? {} : { messageTs }),
      createdAt: now,
      uses: 0,
    };
    this.nextId += 1;
    this.grants.set(grant.id, grant);
    return { grant, path: `commands/${this.teamId}/${grant.id}/${grant.secret}` };
  }

  /** The grant a request path names, or the error Slack answers (with 404) for it. */
  lookup(path: string, now: number): ResponseUrlGrant | 'no_service' | 'used_url' | 'expired_url' {
    const match = pathPattern.exec(path);
    const grant = match ? this.grants.get(match[2] ?? '') : undefined;
    if (!match || match[1] !== this.teamId || !grant || grant.secret !== match[3]) return 'no_service';
    if (now - grant.createdAt > responseUrlLimits.lifetimeMs) return 'expired_url';
    if (grant.uses >= responseUrlLimits.uses) return 'used_url';
    return grant;
  }
}
