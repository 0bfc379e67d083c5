/**
 * `watch=true` on a list, as kubectl (`get -w`, `rollout status`, `delete --wait`) uses it: a chunked stream
 * of newline-delimited `{"type","object"}` events. The sim's objects are computed from its clock when read,
 * so the stream reads the list again every `pollMs` and sends what changed. A change the model made without
 * a new resourceVersion (a pod turning ready as time passes) gets a fresh one in its event, as the kubelet's
 * status write would have given it.
 */
import type { ServerResponse } from 'node:http';
import type { SimCluster } from './cluster.js';
import type { SimRequest, SimResponse } from './http.js';
import { isJsonObject, type JsonObject } from './json.js';
import { asTable, wantsTable } from './kubeTables.js';

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** The API server's default for a watch without timeoutSeconds is 30–60 minutes. */
const maxWatchSeconds = 30 * 60;
const pollMs = 200;

function metadataOf(object: JsonObject): JsonObject {
  return isJsonObject(object.metadata) ? object.metadata : {};
}

function keyOf(object: JsonObject): string {
  const { namespace, name, uid } = metadataOf(object);
  return JSON.stringify([namespace ?? null, name ?? null, uid ?? null]);
}

function resourceVersionOf(object: JsonObject): number {
  return Number(metadataOf(object).resourceVersion ?? 0);
}

function withResourceVersion(object: JsonObject, resourceVersion: number): JsonObject {
  return { ...object, metadata: { ...metadataOf(object), resourceVersion: String(resourceVersion) } };
}

interface Seen {
  json: string;
  /** The resourceVersion last sent for this object. */
  sent: number;
  object: JsonObject;
}

/**
 * Streams `snapshot()` (whole objects, kind and apiVersion included, selectors applied) as watch events.
 * `resourceVersion` absent or "0": every current object first arrives as ADDED; otherwise objects newer than
 * it arrive as MODIFIED, and only changes after that follow.
 */
export function watchResponse(
  req: SimRequest,
  cluster: SimCluster,
  snapshot: () => JsonObject[],
): SimResponse {
  const since = req.query.get('resourceVersion');
  const fromScratch = since === null || since === '' || since === '0';
  const requested = Number(req.query.get('timeoutSeconds') ?? maxWatchSeconds);
  const timeoutMs = 1000 * Math.min(maxWatchSeconds, requested > 0 ? requested : maxWatchSeconds);
  const table = wantsTable(req.headers);

  const stream = (res: ServerResponse): void => {
    const seen = new Map<string, Seen>();
    let sent = 0;
    const send = (type: EventType, object: JsonObject): void => {
      // kubectl get -w asks for Tables: the first event carries the column definitions, later ones rows only.
      const shown = table ? asTable(object, cluster.clock.now(), sent === 0) : object;
      sent += 1;
      res.write(`${JSON.stringify({ type, object: shown })}\n`);
    };
    // A change without a newer resourceVersion than the one last sent gets a fresh one.
    const stamped = (object: JsonObject, previous: Seen | undefined): JsonObject => {
      const rv = resourceVersionOf(object);
      return previous && rv <= previous.sent
        ? withResourceVersion(object, cluster.nextResourceVersion())
        : object;
    };
    const remember = (object: JsonObject, json: string): void => {
      seen.set(keyOf(object), { json, sent: resourceVersionOf(object), object });
    };

    for (const object of snapshot()) {
      const json = JSON.stringify(object);
      if (fromScratch) send('ADDED', object);
      else if (resourceVersionOf(object) > Number(since)) send('MODIFIED', object);
      remember(object, json);
    }

    const poll = (): void => {
      let current: JsonObject[];
      try {
        current = snapshot();
      } catch {
        // The resource went away (e.g. the mesh CRDs): the server ends the watch.
        stop();
        return;
      }
      const present = new Set<string>();
      for (const object of current) {
        const key = keyOf(object);
        present.add(key);
        const json = JSON.stringify(object);
        const previous = seen.get(key);
        if (previous?.json === json) continue;
        const event = stamped(object, previous);
        send(previous ? 'MODIFIED' : 'ADDED', event);
        seen.set(key, { json, sent: resourceVersionOf(event), object: event });
      }
      for (const [key, previous] of seen) {
        if (present.has(key)) continue;
        send('DELETED', withResourceVersion(previous.object, cluster.nextResourceVersion()));
        seen.delete(key);
      }
    };
    const timer = setInterval(poll, pollMs);
    const deadline = setTimeout(() => stop(), timeoutMs);
    timer.unref();
    deadline.unref();
    function stop(): void {
      clearInterval(timer);
      clearTimeout(deadline);
      if (!res.writableEnded) res.end();
    }
    res.once('close', stop);
  };
  return { status: 200, body: null, stream };
}
