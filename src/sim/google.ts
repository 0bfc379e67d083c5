import type { FaultInjector, FiredFault, GoogleApiName } from './faults.js';
import {
  bearerToken,
  listen,
  type Router,
  type RunningServer,
  type SimRequest,
  type SimResponse,
  holdFor,
} from './http.js';
import {
  isJsonObject,
  PatchError,
  stringMap,
  withoutProtoDefaults,
  type JsonObject,
  type JsonValue,
} from './json.js';
import { randomHex } from './ids.js';
import type { RequestLog } from './requestLog.js';
import type { SimProject } from './world.js';

export type GoogleStatus =
  | 'INVALID_ARGUMENT'
  | 'FAILED_PRECONDITION'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'ABORTED'
  | 'RESOURCE_EXHAUSTED'
  | 'INTERNAL'
  | 'UNAVAILABLE';

/** Thrown by handlers; rendered as Google's `{"error":{code,message,status,details}}`. */
export class GoogleApiError extends Error {
  constructor(
    readonly code: number,
    readonly status: GoogleStatus,
    message: string,
    readonly details: JsonObject[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  toResponse(): SimResponse {
    const error: JsonObject = { code: this.code, message: this.message, status: this.status };
    if (this.details.length > 0) error.details = this.details;
    return { status: this.code, body: { error }, headers: this.headers };
  }
}

export const invalidArgument = (message: string, details: JsonObject[] = []): GoogleApiError =>
  new GoogleApiError(400, 'INVALID_ARGUMENT', message, details);
export const failedPrecondition = (message: string): GoogleApiError =>
  new GoogleApiError(400, 'FAILED_PRECONDITION', message);
export const notFound = (message: string): GoogleApiError => new GoogleApiError(404, 'NOT_FOUND', message);
export const alreadyExists = (message: string): GoogleApiError =>
  new GoogleApiError(409, 'ALREADY_EXISTS', message);

export function errorInfo(reason: string, metadata: Record<string, string>): JsonObject {
  return { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason, domain: 'googleapis.com', metadata };
}

const serviceTitles: Record<string, string> = {
  'gkehub.googleapis.com': 'GKE Hub API',
  'container.googleapis.com': 'Kubernetes Engine API',
  'mesh.googleapis.com': 'Cloud Service Mesh API',
  'serviceusage.googleapis.com': 'Service Usage API',
  'cloudresourcemanager.googleapis.com': 'Cloud Resource Manager API',
  'connectgateway.googleapis.com': 'Connect Gateway API',
};

export function serviceDisabled(service: string, projectNumber: string): GoogleApiError {
  const title = serviceTitles[service] ?? service;
  const activationUrl = `https://console.developers.google.com/apis/api/${service}/overview?project=${projectNumber}`;
  return new GoogleApiError(
    403,
    'PERMISSION_DENIED',
    `${title} has not been used in project ${projectNumber} before or it is disabled. Enable it by visiting ` +
      `${activationUrl} then retry. If you enabled this API recently, wait a few minutes for the action to ` +
      'propagate to our systems and retry.',
    [
      errorInfo('SERVICE_DISABLED', {
        service,
        consumer: `projects/${projectNumber}`,
        activationUrl,
        serviceTitle: title,
        containerInfo: projectNumber,
      }),
      {
        '@type': 'type.googleapis.com/google.rpc.Help',
        links: [{ description: 'Google developers console API activation', url: activationUrl }],
      },
    ],
  );
}

/** What Google answers for a project that does not exist or that the caller cannot see. */
export function projectPermissionDenied(project: string, service: string): GoogleApiError {
  return new GoogleApiError(403, 'PERMISSION_DENIED', `Permission denied on resource project ${project}.`, [
    errorInfo('CONSUMER_INVALID', { service, consumer: `projects/${project}` }),
  ]);
}

/** A map<string,string> field of a request body. */
export function labelsField(value: JsonValue | undefined, field: string): Record<string, string> {
  try {
    return stringMap(value, field);
  } catch (error) {
    if (error instanceof PatchError) throw invalidArgument(`Invalid value at '${field}': ${error.message}.`);
    throw error;
  }
}

export function parseJsonBody(req: SimRequest): JsonObject {
  if (req.rawBody.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(req.rawBody);
  } catch {
    throw invalidArgument(`Invalid JSON payload received. Unexpected token.\n${req.rawBody.slice(0, 80)}`);
  }
  if (!isJsonObject(parsed)) throw invalidArgument('Invalid JSON payload received. Expected an object.');
  return parsed;
}

export function faultError(
  api: GoogleApiName,
  fault: FiredFault,
  projectNumber: ProjectNumberLookup,
): GoogleApiError {
  const service = `${api}.googleapis.com`;
  const project = /projects\/([^/:]+)/.exec(fault.path)?.[1] ?? 'unknown';
  const consumer = projectNumber(project) ?? project;
  const headers: Record<string, string> =
    fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) };
  const withHeaders = (error: GoogleApiError): GoogleApiError =>
    new GoogleApiError(error.code, error.status, error.message, error.details, headers);
  switch (fault.status) {
    case 429:
      return withHeaders(
        new GoogleApiError(
          429,
          'RESOURCE_EXHAUSTED',
          `Quota exceeded for quota metric 'Requests' and limit 'Requests per minute' of service '${service}' ` +
            `for consumer 'project_number:${consumer}'.`,
          [errorInfo(fault.reason ?? 'RATE_LIMIT_EXCEEDED', { service, consumer: `projects/${consumer}` })],
        ),
      );
    case 500:
      return withHeaders(new GoogleApiError(500, 'INTERNAL', 'Internal error encountered.'));
    case 503:
      return withHeaders(new GoogleApiError(503, 'UNAVAILABLE', 'The service is currently unavailable.'));
    case 403:
      if (fault.reason === 'SERVICE_DISABLED') {
        return withHeaders(serviceDisabled(fault.service ?? service, consumer));
      }
      if (fault.permission) {
        // As IAM answers: the permission and the resource, in the message and in ErrorInfo's metadata.
        const resource = fault.path.replace(/^\/v[0-9a-z]+\//, '').replace(/:[a-zA-Z]+$/, '');
        return withHeaders(
          new GoogleApiError(
            403,
            'PERMISSION_DENIED',
            `Permission '${fault.permission}' denied on resource '//${service}/${resource}' (or it may not exist).`,
            [errorInfo('IAM_PERMISSION_DENIED', { permission: fault.permission, resource })],
          ),
        );
      }
      return withHeaders(
        new GoogleApiError(
          403,
          'PERMISSION_DENIED',
          `The caller does not have permission on ${fault.path}.`,
          [errorInfo(fault.reason ?? 'IAM_PERMISSION_DENIED', { service, consumer: `projects/${consumer}` })],
        ),
      );
  }
}

/** What Google answers a call without a valid bearer token. */
export function unauthenticated(api: GoogleApiName, req: Pick<SimRequest, 'headers'>): GoogleApiError {
  return new GoogleApiError(
    401,
    'UNAUTHENTICATED',
    'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other ' +
      'valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
    [
      errorInfo(
        req.headers.authorization === undefined ? 'CREDENTIALS_MISSING' : 'ACCESS_TOKEN_TYPE_UNSUPPORTED',
        {
          service: `${api}.googleapis.com`,
        },
      ),
    ],
    { 'www-authenticate': 'Bearer realm="https://accounts.google.com/"' },
  );
}

export type ProjectNumberLookup = (idOrNumber: string) => string | undefined;

/**
 * What Google answers a call from outside a VPC Service Controls perimeter to a service it restricts:
 * 403 with the perimeter's unique ID in the message, a PreconditionFailure of type VPC_SERVICE_CONTROLS
 * and ErrorInfo SECURITY_POLICY_VIOLATED.
 */
export function perimeterViolation(service: string, projectNumber: string): GoogleApiError {
  const uid = `${randomHex(8)}${randomHex(8)}`.toUpperCase();
  return new GoogleApiError(
    403,
    'PERMISSION_DENIED',
    `Request is prohibited by organization's policy. vpcServiceControlsUniqueIdentifier: ${uid}`,
    [
      {
        '@type': 'type.googleapis.com/google.rpc.PreconditionFailure',
        violations: [{ type: 'VPC_SERVICE_CONTROLS', description: uid }],
      },
      errorInfo('SECURITY_POLICY_VIOLATED', { service, consumer: `projects/${projectNumber}`, uid }),
    ],
  );
}

/** The project a path names and whether a perimeter around it keeps callers out of `api`. */
function perimeterRefusal(
  directory: ProjectDirectory | undefined,
  api: GoogleApiName,
  path: string,
): GoogleApiError | undefined {
  const ref = /\/projects\/([^/:]+)/.exec(path)?.[1];
  const project = ref === undefined ? undefined : directory?.project(ref);
  const service = `${api}.googleapis.com`;
  if (!project?.perimeter?.restricted.has(service)) return undefined;
  return perimeterViolation(service, project.number);
}

export interface GoogleServerOptions {
  api: GoogleApiName;
  projectNumber: ProjectNumberLookup;
  router: Router;
  token: string;
  faults: FaultInjector;
  host: string;
  port: number;
  /** Where every request is recorded, if anywhere. */
  requests?: RequestLog;
  /** The projects, for the VPC Service Controls perimeters around them (meshops calls from outside). */
  projects?: ProjectDirectory;
}

/**
 * One Google API on its own port: bearer check, injected faults, routing, Google's error shape, and proto3
 * JSON's omissions on every answer, so no handler can send a `done: false` that Google never would.
 */
export function startGoogleServer(options: GoogleServerOptions): Promise<RunningServer> {
  const { api, token, faults, requests } = options;
  return listen(
    async (req) => {
      const latency = faults.takeLatency(api, req.method, req.path);
      if (latency > 0) await holdFor(latency);
      if (bearerToken(req.headers) !== token) return unauthenticated(api, req).toResponse();
      const fault = faults.take(api, req.method, req.path);
      if (fault) return faultError(api, fault, options.projectNumber).toResponse();
      const fenced = perimeterRefusal(options.projects, api, req.path);
      if (fenced) return fenced.toResponse();
      const route = options.router.match(req.method, req.path);
      if (!route) {
        return notFound(
          `The requested URL ${req.method} ${req.path} was not found on this server (meshops sim: ${api}).`,
        ).toResponse();
      }
      try {
        const response = route.handler({ ...req, params: route.params });
        return { ...response, body: withoutProtoDefaults(response.body) };
      } catch (error) {
        if (error instanceof GoogleApiError) return error.toResponse();
        throw error;
      }
    },
    {
      host: options.host,
      port: options.port,
      ...(requests ? { observe: (request) => requests.begin(api, request) } : {}),
    },
  );
}

export interface ProjectDirectory {
  project(idOrNumber: string): SimProject | undefined;
}

/** The project in a path, which must exist and have `service` enabled, as Google checks before anything else. */
export function requireProject(world: ProjectDirectory, ref: string, service: string): SimProject {
  const project = world.project(ref);
  if (!project) throw projectPermissionDenied(ref, service);
  if (!project.services.has(service)) throw serviceDisabled(service, project.number);
  return project;
}
