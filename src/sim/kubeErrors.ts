import type { FiredFault } from './faults.js';
import type { SimResponse } from './http.js';
import type { JsonObject } from './json.js';

/** Rendered as a Kubernetes `Status`, the shape every API server error has. */
export class KubeError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details: JsonObject = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  toResponse(): SimResponse {
    return {
      status: this.code,
      headers: this.headers,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: this.message,
        reason: this.reason,
        ...(Object.keys(this.details).length > 0 ? { details: this.details } : {}),
        code: this.code,
      },
    };
  }
}

export function notFound(resource: string, name: string): KubeError {
  const [kind = resource, group] = resource.split(/\.(.*)/);
  return new KubeError(404, 'NotFound', `${resource} "${name}" not found`, {
    name,
    ...(group ? { group } : {}),
    kind,
  });
}

export const unsupportedMediaType = new KubeError(
  415,
  'UnsupportedMediaType',
  'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
);

export function invalid(kind: string, name: string, field: string, message: string): KubeError {
  return new KubeError(422, 'Invalid', `${kind} "${name}" is invalid: ${field}: ${message}`, {
    name,
    kind: kind.split('.')[0]?.toLowerCase() ?? kind,
    causes: [{ reason: 'FieldValueInvalid', message, field }],
  });
}

export function kubeFault(fault: FiredFault): KubeError {
  const headers: Record<string, string> =
    fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) };
  const details: JsonObject =
    fault.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: fault.retryAfterSeconds };
  switch (fault.status) {
    case 429:
      return new KubeError(
        429,
        'TooManyRequests',
        'the server has received too many requests and has asked us to try again later',
        details,
        headers,
      );
    case 500:
      return new KubeError(
        500,
        'InternalError',
        'an error on the server ("") has prevented the request from succeeding',
        details,
        headers,
      );
    case 503:
      return new KubeError(
        503,
        'ServiceUnavailable',
        'the server is currently unable to handle the request',
        details,
        headers,
      );
    case 403:
      return new KubeError(
        403,
        'Forbidden',
        `${fault.method} ${fault.path} is forbidden: the caller lacks permission${fault.reason ? ` (${fault.reason})` : ''}`,
        details,
        headers,
      );
  }
}
