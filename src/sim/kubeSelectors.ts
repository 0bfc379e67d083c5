import { isJsonObject, type JsonObject, type JsonValue } from './json.js';

/** Thrown for selectors the API server would reject with 400 BadRequest. */
export class SelectorError extends Error {}

type Requirement = (labels: Record<string, string>) => boolean;

function splitTopLevel(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of selector) {
    if (char === '(') depth += 1;
    if (char === ')') depth -= 1;
    if (char === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts.map((part) => part.trim()).filter((part) => part !== '');
}

function requirement(expression: string): Requirement {
  const set = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(expression);
  if (set) {
    const [, key = '', operator, rawValues = ''] = set;
    const values = rawValues.split(',').map((value) => value.trim());
    return operator === 'in'
      ? (labels) => labels[key] !== undefined && values.includes(labels[key])
      : (labels) => labels[key] === undefined || !values.includes(labels[key]);
  }
  const comparison = /^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/.exec(expression);
  if (comparison) {
    const [, key = '', operator, value] = comparison;
    return operator === '!=' ? (labels) => labels[key] !== value : (labels) => labels[key] === value;
  }
  const absent = /^!([\w./-]+)$/.exec(expression);
  if (absent) return (labels) => labels[absent[1] ?? ''] === undefined;
  if (/^[\w./-]+$/.test(expression)) return (labels) => labels[expression] !== undefined;
  throw new SelectorError(`unable to parse requirement: ${JSON.stringify(expression)}`);
}

export function labelMatcher(selector: string | null): (labels: Record<string, string>) => boolean {
  if (!selector) return () => true;
  const requirements = splitTopLevel(selector).map(requirement);
  return (labels) => requirements.every((matches) => matches(labels));
}

function fieldValue(object: JsonObject, path: string): string {
  let node: JsonValue | undefined = object;
  for (const part of path.split('.')) node = isJsonObject(node) ? node[part] : undefined;
  return typeof node === 'string' ? node : '';
}

/** fieldSelector over the fields this kind supports (the API server rejects any other field). */
export function fieldMatcher(selector: string | null, supported: string[]): (object: JsonObject) => boolean {
  if (!selector) return () => true;
  const tests = splitTopLevel(selector).map((expression) => {
    const match = /^([\w.]+)\s*(==|=|!=)\s*(.*)$/.exec(expression);
    if (!match) throw new SelectorError(`invalid field selector: ${JSON.stringify(expression)}`);
    const [, field = '', operator, value] = match;
    if (!supported.includes(field)) throw new SelectorError(`field label not supported: ${field}`);
    return (object: JsonObject) => (fieldValue(object, field) === value) === (operator !== '!=');
  });
  return (object) => tests.every((test) => test(object));
}
