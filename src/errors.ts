/**
 * The one error family of meshops. `code` is stable (tests and the thread show it), `hint` says
 * what a person should do, `retryable` says whether trying the same call again can help.
 */
export type ErrorCode =
  | 'INVALID_COMMAND'
  | 'CLUSTER_NOT_FOUND'
  | 'CLUSTER_NOT_RUNNING'
  | 'SERVICE_DISABLED'
  | 'WORKLOAD_IDENTITY_DISABLED'
  | 'NODE_POOL_METADATA'
  | 'MESH_CHANNEL_MISMATCH'
  | 'REGISTERED_IN_ANOTHER_FLEET'
  | 'PRIVATE_CA_UNSUPPORTED'
  | 'VPC_SERVICE_CONTROLS'
  /** Preflight found more than one blocker: they are in `blockers`, each with its own code, hint and docs. */
  | 'PREFLIGHT_BLOCKED'
  | 'CROSS_PROJECT_PERMISSION'
  | 'PERMISSION_DENIED'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'FAILED_PRECONDITION'
  | 'INVALID_ARGUMENT'
  | 'RATE_LIMITED'
  | 'UNAVAILABLE'
  | 'UNAUTHENTICATED'
  | 'OPERATION_FAILED'
  | 'TIMEOUT'
  | 'PROVISIONING_FAILED'
  | 'VERIFY_FAILED'
  | 'CONFLICT'
  | 'INTERNAL';

export interface MeshopsErrorOptions {
  cause?: unknown;
  hint?: string;
  /** The page of Google's documentation that explains the case. */
  docs?: string;
  /** Every blocker a check found, when there is more than one (code PREFLIGHT_BLOCKED). */
  blockers?: MeshopsError[];
  retryable?: boolean;
  /** Seconds the far side asked us to wait (Retry-After). */
  retryAfterSeconds?: number;
}

export class MeshopsError extends Error {
  override name = 'MeshopsError';
  readonly hint: string | undefined;
  readonly docs: string | undefined;
  readonly blockers: readonly MeshopsError[];
  readonly retryable: boolean;
  readonly retryAfterSeconds: number | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: MeshopsErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.hint = options.hint;
    this.docs = options.docs;
    this.blockers = options.blockers ?? [];
    this.retryable = options.retryable ?? false;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  toJSON(): { code: ErrorCode; message: string; hint?: string; docs?: string } {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint ? { hint: this.hint } : {}),
      ...(this.docs ? { docs: this.docs } : {}),
    };
  }
}

export function isMeshopsError(error: unknown, code?: ErrorCode): error is MeshopsError {
  return error instanceof MeshopsError && (code === undefined || error.code === code);
}

/** Any thrown value as a MeshopsError, keeping the original as its cause. */
export function asMeshopsError(error: unknown): MeshopsError {
  if (error instanceof MeshopsError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new MeshopsError('INTERNAL', message, { cause: error });
}
