/**
 * The emulator's own state and control endpoint, on a port of its own (plain HTTP, the emulator's host):
 *
 *   GET    /_sim/state    the fleet as it is now (fleetState.ts)
 *   POST   /_sim/speed    {"speed": 20}: simulated ms per real ms from now on
 *   POST   /_sim/mesh     {"cluster": "P/L/C", "change": "channel", "channel": "RAPID"} (meshChanges.ts)
 *   POST   /_sim/faults   {"api": "gkehub", "status": 503, "times": 3} or "rate": 0..1 (faults.ts)
 *   DELETE /_sim/faults   every fault rule and slowed call cleared
 *
 * This is how a person or a tool outside the emulator's process watches and steers the world (the local
 * console does). It changes the world, so it listens where the emulator does: loopback unless told.
 * Its calls are not in the request log: they are not calls the bot made.
 */
import type { SimClock } from './clock.js';
import type { FaultApi, FaultInjector, FaultRule, FaultStatus } from './faults.js';
import { fleetState } from './fleetState.js';
import { listen, ok, Router, type RunningServer, type SimRequest, type SimResponse } from './http.js';
import { applyMeshChange, parseMeshChange } from './meshChanges.js';
import type { SimWorld } from './world.js';

export interface ControlTarget {
  world: SimWorld;
  clock: SimClock;
  faults: FaultInjector;
}

const faultApis: FaultApi[] = [
  'gkehub',
  'container',
  'serviceusage',
  'resourcemanager',
  'connectgateway',
  'kubernetes',
];
const faultStatuses: FaultStatus[] = [403, 429, 500, 503];
const maxSpeed = 10_000;

/** A request the control endpoint refuses, with why. */
class BadControlRequest extends Error {}

function bodyOf(req: SimRequest): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(req.rawBody || '{}');
  } catch {
    throw new BadControlRequest('the body must be JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new BadControlRequest('the body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new BadControlRequest(`${key} must be a string`);
  return value;
}

/** A fault rule from a request body: the api and status required, the rest as faults.ts has them. */
export function parseFaultRule(body: Record<string, unknown>): FaultRule {
  const { api, status, times, rate, retryAfterSeconds } = body;
  if (!faultApis.includes(api as FaultApi)) {
    throw new BadControlRequest(`api must be one of ${faultApis.join(', ')}`);
  }
  if (!faultStatuses.includes(status as FaultStatus)) {
    throw new BadControlRequest(`status must be one of ${faultStatuses.join(', ')}`);
  }
  if (times !== undefined && !(Number.isInteger(times) && (times as number) >= 1)) {
    throw new BadControlRequest('times must be a whole number >= 1');
  }
  if (rate !== undefined && !(typeof rate === 'number' && rate >= 0 && rate <= 1)) {
    throw new BadControlRequest('rate must be a number within 0..1');
  }
  if (
    retryAfterSeconds !== undefined &&
    !(Number.isInteger(retryAfterSeconds) && (retryAfterSeconds as number) >= 0)
  ) {
    throw new BadControlRequest('retryAfterSeconds must be a whole number >= 0');
  }
  const method = optionalString(body, 'method');
  const pathIncludes = optionalString(body, 'pathIncludes');
  const reason = optionalString(body, 'reason');
  return {
    api: api as FaultApi,
    status: status as FaultStatus,
    ...(times === undefined ? {} : { times: times as number }),
    ...(rate === undefined ? {} : { rate }),
    ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds: retryAfterSeconds as number }),
    ...(method === undefined ? {} : { method: method.toUpperCase() }),
    ...(pathIncludes === undefined ? {} : { pathIncludes }),
    ...(reason === undefined ? {} : { reason }),
  };
}

export function controlRouter({ world, clock, faults }: ControlTarget): Router {
  const state = () => ok(fleetState(world, clock, faults));
  return new Router()
    .add('GET', '/_sim/state', state)
    .add('POST', '/_sim/speed', (req) => {
      const { speed } = bodyOf(req);
      if (typeof speed !== 'number' || !(speed > 0 && speed <= maxSpeed)) {
        throw new BadControlRequest(`speed must be a number within (0, ${maxSpeed}]`);
      }
      clock.setSpeed(speed);
      return ok({ speed: clock.speed });
    })
    .add('POST', '/_sim/mesh', (req) => {
      const body = bodyOf(req);
      const ref = typeof body.cluster === 'string' ? body.cluster : '';
      if (!world.cluster(ref)) throw new BadControlRequest(`no cluster "${ref}" in the emulated fleet`);
      const change = parseMeshChange(body);
      if (typeof change === 'string') throw new BadControlRequest(change);
      return ok({ done: applyMeshChange(world, ref, change) });
    })
    .add('POST', '/_sim/faults', (req) => {
      const rule = parseFaultRule(bodyOf(req));
      faults.add(rule);
      const count =
        rule.rate === undefined
          ? `the next ${rule.times ?? 1} call(s)`
          : rule.rate === 1
            ? 'every call'
            : `${Math.round(rule.rate * 100)}% of calls`;
      return ok({
        done: `${rule.api} answers ${rule.status} to ${count}${rule.method ? ` (${rule.method})` : ''}.`,
      });
    })
    .add('DELETE', '/_sim/faults', () => {
      faults.clear();
      return ok({ done: 'Every API answers normally again.' });
    });
}

function answer(router: Router, req: SimRequest): SimResponse {
  const route = router.match(req.method, req.path);
  if (!route) {
    const status = router.servesPath(req.path) ? 405 : 404;
    return {
      status,
      body: { error: `${req.method} ${req.path}: not served here (the emulator's control endpoint)` },
    };
  }
  try {
    return route.handler({ ...req, params: route.params });
  } catch (error) {
    if (error instanceof BadControlRequest) return { status: 400, body: { error: error.message } };
    throw error;
  }
}

export function startControlServer(
  target: ControlTarget,
  options: { host: string; port: number },
): Promise<RunningServer> {
  const router = controlRouter(target);
  return listen((req) => answer(router, req), options);
}
