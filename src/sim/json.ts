/** JSON values as they travel on the wire, and the two patch formats the Kubernetes API accepts. */
export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function cloneJson<T extends JsonValue>(value: T): T {
  return structuredClone(value);
}

export function jsonEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]));
  }
  if (isJsonObject(a) && isJsonObject(b)) {
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length && keys.every((key) => key in b && jsonEqual(a[key], b[key]))
    );
  }
  return false;
}

/** RFC 7386: objects merge recursively, `null` deletes a key, anything else replaces. */
export function mergePatch(target: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (!isJsonObject(patch)) return cloneJson(patch);
  const result: JsonObject = isJsonObject(target) ? cloneJson(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

export class PatchError extends Error {}

function unescapePointer(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

function pointerTokens(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchError(`invalid JSON pointer "${pointer}"`);
  return pointer.slice(1).split('/').map(unescapePointer);
}

function child(container: JsonValue, token: string, pointer: string): JsonValue {
  const value = Array.isArray(container)
    ? container[Number(token)]
    : isJsonObject(container)
      ? container[token]
      : undefined;
  if (value === undefined) throw new PatchError(`path "${pointer}" does not exist`);
  return value;
}

function parentOf(doc: JsonValue, tokens: string[], pointer: string): JsonValue {
  return tokens.slice(0, -1).reduce((node, token) => child(node, token, pointer), doc);
}

function readPointer(doc: JsonValue, pointer: string): JsonValue {
  return pointerTokens(pointer).reduce((node, token) => child(node, token, pointer), doc);
}

function removeAt(doc: JsonValue, pointer: string): JsonValue {
  const tokens = pointerTokens(pointer);
  const last = tokens.at(-1);
  if (last === undefined) throw new PatchError('cannot remove the whole document');
  const parent = parentOf(doc, tokens, pointer);
  const removed = child(parent, last, pointer);
  if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else if (isJsonObject(parent)) delete parent[last];
  return removed;
}

function addAt(doc: JsonValue, pointer: string, value: JsonValue, replace: boolean): JsonValue {
  const tokens = pointerTokens(pointer);
  const last = tokens.at(-1);
  if (last === undefined) return value;
  const parent = parentOf(doc, tokens, pointer);
  if (Array.isArray(parent)) {
    const index = last === '-' ? parent.length : Number(last);
    if (!Number.isInteger(index) || index < 0 || index > parent.length) {
      throw new PatchError(`array index out of range in "${pointer}"`);
    }
    parent.splice(index, replace ? 1 : 0, value);
  } else if (isJsonObject(parent)) {
    if (replace && !(last in parent)) throw new PatchError(`path "${pointer}" does not exist`);
    parent[last] = value;
  } else {
    throw new PatchError(`path "${pointer}" has no container`);
  }
  return doc;
}

function stringField(op: JsonObject, field: string): string {
  const value = op[field];
  if (typeof value !== 'string') throw new PatchError(`operation is missing "${field}"`);
  return value;
}

/** RFC 6902, the format `@kubernetes/client-node` sends when no Content-Type is chosen. */
export function applyJsonPatch(document: JsonValue, operations: JsonValue): JsonValue {
  if (!Array.isArray(operations)) {
    throw new PatchError('json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp');
  }
  let doc = cloneJson(document);
  for (const op of operations) {
    if (!isJsonObject(op)) throw new PatchError('each JSON patch operation must be an object');
    const path = stringField(op, 'path');
    const value = op.value;
    switch (op.op) {
      case 'add':
      case 'replace':
        if (value === undefined) throw new PatchError(`operation ${op.op} on "${path}" has no value`);
        doc = addAt(doc, path, cloneJson(value), op.op === 'replace');
        break;
      case 'remove':
        removeAt(doc, path);
        break;
      case 'move':
      case 'copy': {
        const from = stringField(op, 'from');
        const moved = op.op === 'move' ? removeAt(doc, from) : cloneJson(readPointer(doc, from));
        doc = addAt(doc, path, moved, false);
        break;
      }
      case 'test':
        if (!jsonEqual(readPointer(doc, path), value)) throw new PatchError(`test failed at "${path}"`);
        break;
      default:
        throw new PatchError(`unknown JSON patch operation ${JSON.stringify(op.op ?? null)}`);
    }
  }
  return doc;
}

/** A copy of `object` without `keys`. */
export function without<T extends object>(object: T, ...keys: string[]): T {
  const copy = { ...object };
  for (const key of keys) delete (copy as Record<string, unknown>)[key];
  return copy;
}

export function stringMap(value: JsonValue | undefined, field: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isJsonObject(value)) throw new PatchError(`${field} must be a map of strings`);
  const result: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string') throw new PatchError(`${field}.${key} must be a string`);
    result[key] = item;
  }
  return result;
}

/** String maps whose entries proto3 JSON always writes, even an empty value (`{"team": ""}`). */
const stringMapFields = new Set(['labels', 'resourceLabels']);

/**
 * What Google's servers send for a message in proto3 JSON: scalars at their default (`false`, `0`, `""`) and
 * empty repeated fields are left out. Empty messages stay (`spec: {}` is a set message); empty maps cannot be
 * told from them here, so the handlers leave those out themselves.
 */
export function withoutProtoDefaults(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(withoutProtoDefaults);
  if (!isJsonObject(value)) return value;
  const result: JsonObject = {};
  for (const [key, item] of Object.entries(value)) {
    if (item === false || item === 0 || item === '' || item === null) continue;
    if (Array.isArray(item) && item.length === 0) continue;
    result[key] = stringMapFields.has(key) ? item : withoutProtoDefaults(item);
  }
  return result;
}
