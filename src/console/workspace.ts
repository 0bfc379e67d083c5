import type { Sim } from '../sim/index.js';

/** The approvers of the console's workspace: two, so that whoever asks, someone else may decide. */
export const CONSOLE_APPROVERS = ['U0ALICE', 'U0CAROL'];

/**
 * The emulator seeds Alice (an approver) and Bob (an engineer); the console adds Carol, a second
 * approver, since nobody approves a run they asked for.
 */
export function addSecondApprover(sim: Pick<Sim, 'slack'>): void {
  sim.slack.users.set('U0CAROL', { id: 'U0CAROL', name: 'carol', real_name: 'Carol Security' });
  sim.slack.usergroups.set('S0APPROVERS', [...CONSOLE_APPROVERS]);
}
