/**
 * Turns what the Google and Kubernetes clients throw into MeshopsErrors that say which call failed
 * on which resource, whether trying again can help, and what a person should do.
 */
import { MeshopsError, type ErrorCode } from '../errors.js';

interface ErrorInfoDetail {
  '@type'?: string;
  reason?: string;
  metadata?: Record<string, string>;
}

interface Classified {
  httpStatus?: number;
  status?: string;
  message: string;
  reason?: string;
  metadata?: Record<string, string>;
  retryAfterSeconds?: number;
  networkCode?: string;
  /** A TLS verification failure (Node's code), e.g. UNABLE_TO_VERIFY_LEAF_SIGNATURE. */
  tlsCode?: string;
}

/** The certificate did not check out: not worth retrying, and not the far side's fault. */
const tlsCodes = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
]);

/** gRPC status numbers, as gax's REST fallback reports them. */
const grpcStatus: Record<number, [string, number]> = {
  1: ['CANCELLED', 499],
  2: ['UNKNOWN', 500],
  3: ['INVALID_ARGUMENT', 400],
  4: ['DEADLINE_EXCEEDED', 504],
  5: ['NOT_FOUND', 404],
  6: ['ALREADY_EXISTS', 409],
  7: ['PERMISSION_DENIED', 403],
  8: ['RESOURCE_EXHAUSTED', 429],
  9: ['FAILED_PRECONDITION', 400],
  10: ['ABORTED', 409],
  13: ['INTERNAL', 500],
  14: ['UNAVAILABLE', 503],
  16: ['UNAUTHENTICATED', 401],
};

const networkCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
]);

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
}

function parseRetryAfter(value: unknown): number | undefined {
  const seconds = Number(Array.isArray(value) ? value[0] : value);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}

function errorInfo(details: unknown): ErrorInfoDetail | undefined {
  if (!Array.isArray(details)) return undefined;
  return details
    .map((d) => record(d) as ErrorInfoDetail | undefined)
    .find((d) => d?.reason !== undefined || d?.['@type']?.endsWith('ErrorInfo'));
}

function fromGoogleBody(body: unknown): Partial<Classified> {
  const error = record(record(body)?.error);
  if (!error) return {};
  const info = errorInfo(error.details);
  return {
    ...(typeof error.code === 'number' ? { httpStatus: error.code } : {}),
    ...(typeof error.status === 'string' ? { status: error.status } : {}),
    ...(typeof error.message === 'string' ? { message: error.message } : {}),
    ...(info?.reason ? { reason: info.reason } : {}),
    ...(info?.metadata ? { metadata: info.metadata } : {}),
  };
}

function headerValue(headers: unknown, name: string): unknown {
  if (!headers) return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name);
  return record(headers)?.[name];
}

/** Reads a thrown value from gaxios (googleapis), google-gax (Container) or client-node (Kubernetes). */
export function classify(error: unknown): Classified {
  const e = record(error) ?? {};
  const message = error instanceof Error ? error.message : String(error);
  const networkCode = typeof e.code === 'string' && networkCodes.has(e.code) ? e.code : undefined;
  const cause = record(e.cause);
  const causeCode = typeof cause?.code === 'string' && networkCodes.has(cause.code) ? cause.code : undefined;
  if (networkCode || causeCode) return { message, networkCode: networkCode ?? causeCode };
  const tls = [e.code, cause?.code].find(
    (code): code is string => typeof code === 'string' && tlsCodes.has(code),
  );
  if (tls) return { message, tlsCode: tls };

  // gaxios: error.response = { status, data, headers }. Through google-gax's REST fallback the
  // Google error body arrives as the message text instead of response.data.
  const response = record(e.response);
  if (response && typeof response.status === 'number') {
    const body = fromGoogleBody(response.data);
    return {
      message,
      httpStatus: response.status,
      ...(body.status ? body : fromGoogleBody(safeJson(message))),
      ...(parseRetryAfter(headerValue(response.headers, 'retry-after')) !== undefined
        ? { retryAfterSeconds: parseRetryAfter(headerValue(response.headers, 'retry-after')) }
        : {}),
    };
  }
  // client-node ApiException: { code: httpStatus, body, headers }. Connect Gateway's own refusals
  // (membership unknown, permission denied) carry Google's error body instead of a Kubernetes Status.
  if (typeof e.code === 'number' && e.code >= 100 && 'body' in e) {
    const body = record(typeof e.body === 'string' ? safeJson(e.body) : e.body);
    const google = fromGoogleBody(body);
    return {
      httpStatus: e.code,
      message: typeof body?.message === 'string' ? body.message : (google.message ?? message),
      ...(typeof body?.reason === 'string' ? { status: body.reason } : {}),
      ...(google.status ? { status: google.status } : {}),
      ...(google.reason ? { reason: google.reason } : {}),
      ...(google.metadata ? { metadata: google.metadata } : {}),
      ...(parseRetryAfter(record(e.headers)?.['retry-after']) !== undefined
        ? { retryAfterSeconds: parseRetryAfter(record(e.headers)?.['retry-after']) }
        : {}),
    };
  }
  // google-gax GoogleError: { code: grpc status, details, statusDetails, reason }
  if (typeof e.code === 'number' && grpcStatus[e.code]) {
    const [status, httpStatus] = grpcStatus[e.code]!;
    const info = errorInfo(e.statusDetails);
    const reason = typeof e.reason === 'string' ? e.reason : info?.reason;
    return {
      httpStatus,
      status,
      message: typeof e.details === 'string' && e.details ? e.details : message,
      ...(reason ? { reason } : {}),
      ...(info?.metadata ? { metadata: info.metadata } : {}),
    };
  }
  return { message };
}

/** Google's page on managed Cloud Service Mesh in a VPC Service Controls perimeter. */
export const VPC_SC_DOCS = 'https://cloud.google.com/service-mesh/docs/managed/vpc-sc';
/**
 * The Google status (`NOT_FOUND`, `PERMISSION_DENIED`…) of a Kubernetes client's error whose body is
 * Google's rather than a Kubernetes Status: Connect Gateway answering for itself. Undefined otherwise.
 */
export function googleStatusOf(error: unknown): string | undefined {
  const e = record(error);
  if (!e || typeof e.code !== 'number' || !('body' in e)) return undefined;
  return fromGoogleBody(typeof e.body === 'string' ? safeJson(e.body) : e.body).status;
}

/** The narrowest predefined role meshops' calls need that holds `permission`. */
const rolesByPermission: Array<[RegExp, string]> = [
  // Through Connect Gateway meshops patches namespaces and workloads: the reader role is not enough.
  [/^gkehub\.gateway\./, 'roles/gkehub.gatewayEditor'],
  [/^gkehub\.(memberships|features|operations)\./, 'roles/gkehub.admin'],
  [/^container\.clusters\.(get|list|update)$/, 'roles/container.clusterAdmin'],
  [/^container\./, 'roles/container.admin'],
  [/^serviceusage\.services\./, 'roles/serviceusage.serviceUsageAdmin'],
  [/^resourcemanager\.projects\.get$/, 'roles/browser'],
  [/^meshconfig\./, 'roles/meshconfig.admin'],
];

function roleFor(permission: string): string | undefined {
  return rolesByPermission.find(([pattern]) => pattern.test(permission))?.[1];
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** What an adapter says when its server cannot be reached at all, given the network error's code. */
export type UnreachableHint = (networkCode: string) => string;

const unreachableApi: UnreachableHint = (code) => `could not reach the API (${code})`;

/**
 * Wraps an error from `call` on `resource`. `project` lets the hint name the exact fix; `unreachable`
 * says what usually keeps meshops from this adapter's server.
 */
export function wrapCloudError(
  error: unknown,
  call: string,
  resource: string,
  project?: string,
  unreachable: UnreachableHint = unreachableApi,
): MeshopsError {
  if (error instanceof MeshopsError) return error;
  const c = classify(error);
  const where = `${call} ${resource}`;
  const options = {
    cause: error,
    ...(c.retryAfterSeconds !== undefined ? { retryAfterSeconds: c.retryAfterSeconds } : {}),
  };
  const make = (code: ErrorCode, hint: string | undefined, retryable = false) =>
    new MeshopsError(code, `${where}: ${c.message}`, { ...options, ...(hint ? { hint } : {}), retryable });

  if (c.networkCode) return make('UNAVAILABLE', unreachable(c.networkCode), true);
  if (c.tlsCode) {
    return make(
      'FAILED_PRECONDITION',
      `the server's certificate does not check out (${c.tlsCode}): the endpoint answers with a certificate that the CA GKE reports for the cluster did not sign, or for another name. Is something (a proxy, another cluster) at that address?`,
    );
  }
  const status = c.httpStatus ?? 0;
  if (status === 429 || c.status === 'RESOURCE_EXHAUSTED')
    return make('RATE_LIMITED', 'quota or rate limit: retrying', true);
  if (status >= 500 || c.status === 'UNAVAILABLE')
    return make('UNAVAILABLE', 'the API is having trouble: retrying', true);
  if (c.reason === 'SECURITY_POLICY_VIOLATED' || /vpcServiceControlsUniqueIdentifier/.test(c.message)) {
    return new MeshopsError(
      'VPC_SERVICE_CONTROLS',
      `${where}: ${project ?? 'the project'} is inside a VPC Service Controls perimeter that refuses meshops' calls (${c.message})`,
      {
        ...options,
        hint: `managed Cloud Service Mesh inside a perimeter is set up with asmcli (\`--option vpcsc\`), and meshops must call from inside the perimeter or through an ingress rule; the denial's unique ID is in Cloud Audit Logs (VpcServiceControlAuditMetadata)`,
        docs: VPC_SC_DOCS,
      },
    );
  }
  if (c.reason === 'SERVICE_DISABLED') {
    const service = c.metadata?.service ?? 'the API';
    return make(
      'SERVICE_DISABLED',
      `gcloud services enable ${service}${project ? ` --project ${project}` : ''}`,
    );
  }
  switch (status) {
    case 401:
      return make(
        'UNAUTHENTICATED',
        'the credentials were refused: check MESHOPS_GCP_ACCESS_TOKEN or the ADC identity',
      );
    case 403: {
      const permission = c.metadata?.permission ?? /Permission '([a-zA-Z.]+)' denied/.exec(c.message)?.[1];
      const role = permission ? roleFor(permission) : undefined;
      if (permission && role) {
        return make(
          'PERMISSION_DENIED',
          `the bot's identity lacks \`${permission}\`: grant it ${role}${project ? ` on ${project}` : ''} (\`gcloud projects add-iam-policy-binding ${project ?? 'PROJECT'} --member=serviceAccount:BOT_SA --role=${role}\`)`,
        );
      }
      return make(
        'PERMISSION_DENIED',
        `grant the bot's identity roles/gkehub.admin, roles/container.admin and roles/serviceusage.serviceUsageAdmin${project ? ` on ${project}` : ''}`,
      );
    }
    case 404:
      return make('NOT_FOUND', `check that ${resource} exists and the name is spelled right`);
    case 409:
      return make('ALREADY_EXISTS', undefined);
    case 415:
      return make('INVALID_ARGUMENT', 'the request had the wrong content type (a meshops bug)');
  }
  if (c.status === 'FAILED_PRECONDITION') return make('FAILED_PRECONDITION', undefined);
  if (status === 400) return make('INVALID_ARGUMENT', undefined);
  return make('INTERNAL', undefined);
}
