import type { Logger } from '../log.js';
import type { Clock } from '../workflows/ports.js';

/** The members of a Slack user group (`usergroups.users.list`). */
export type GroupMembers = (usergroup: string) => Promise<string[]>;

/**
 * Who is in a list of Slack principals: user IDs (`U…`, `W…`) match themselves, user-group IDs
 * (`S…`) match their members, looked up on demand and cached briefly, so a click is checked
 * against the group as it is now, give or take `ttlMs`. A group that cannot be read counts as
 * empty (nobody gains a right by an error), and the reason is logged.
 */
export class SlackDirectory {
  private readonly cache = new Map<string, { members: string[]; until: number }>();

  constructor(
    private readonly members: GroupMembers,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly ttlMs = 60_000,
  ) {}

  async includes(principals: readonly string[], user: string): Promise<boolean> {
    if (principals.includes(user)) return true;
    for (const group of principals.filter((id) => id.startsWith('S'))) {
      if ((await this.groupMembers(group)).includes(user)) return true;
    }
    return false;
  }

  private async groupMembers(group: string): Promise<string[]> {
    const now = this.clock.now();
    const cached = this.cache.get(group);
    if (cached && cached.until > now) return cached.members;
    let members: string[] = [];
    try {
      members = await this.members(group);
    } catch (error) {
      this.log.warn(
        { err: error, usergroup: group },
        'user group not readable (usergroups:read scope?); counted as empty',
      );
    }
    this.cache.set(group, { members, until: now + this.ttlMs });
    return members;
  }
}
