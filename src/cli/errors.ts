/**
 * Every way the CLI can fail, as one message for stderr and one exit code. A gRPC error becomes
 * a sentence naming the RPC and the scheduler's address; INVALID_ARGUMENT and a refused change
 * (FAILED_PRECONDITION) list the fields of the `corral-violations` trailer one per line.
 */
import * as grpc from "@grpc/grpc-js";
import { fieldViolations } from "../client/index.js";
import { ERROR_PREFIX } from "../error-prefix.js";

export { ERROR_PREFIX };

/** The exit codes `corral --help` documents. */
export const EXIT = {
  OK: 0,
  /** Any other failure: other gRPC codes, unreadable files, a stream that ended early. */
  FAILURE: 1,
  /** INVALID_ARGUMENT from the scheduler, or a bad command line. */
  INVALID: 2,
  NOT_FOUND: 3,
  /** UNAVAILABLE: no scheduler answering at the address. */
  UNAVAILABLE: 4,
  /** A watched plan reached ERROR. */
  PLAN_ERROR: 5,
  /** ABORTED: the service is not at the generation `put --expect-generation` named. */
  ABORTED: 6,
  /** Stopped by Ctrl-C. */
  INTERRUPTED: 130,
} as const;

/** A failure the CLI itself detected, with the exit code to end with. */
export class CliError extends Error {
  override readonly name = "CliError";
  constructor(
    message: string,
    readonly exitCode: number = EXIT.FAILURE,
  ) {
    super(message);
  }
}

/** A failed RPC, tagged with what was called and where. */
export class RpcError extends Error {
  override readonly name = "RpcError";
  constructor(
    readonly rpc: string,
    readonly address: string,
    readonly error: grpc.ServiceError,
    readonly deadlineMs: number | undefined,
    /** Every scheduler address the call tried (several with --server a,b,c); [] when not known. */
    readonly tried: readonly string[] = [],
  ) {
    super(`${rpc}: ${error.message}`, { cause: error });
  }
}

export function isServiceError(err: unknown): err is grpc.ServiceError {
  return err instanceof Error && typeof (err as { code?: unknown }).code === "number" && "details" in err;
}

export interface Failure {
  readonly message: string;
  readonly exitCode: number;
}

/** The message (without ERROR_PREFIX) and exit code for anything a command threw. */
export function describeFailure(err: unknown): Failure {
  if (err instanceof CliError) return { message: err.message, exitCode: err.exitCode };
  if (err instanceof RpcError) return describeRpcError(err);
  if (err instanceof Error) return { message: err.message, exitCode: EXIT.FAILURE };
  return { message: String(err), exitCode: EXIT.FAILURE };
}

function describeRpcError({ rpc, address, error, deadlineMs, tried }: RpcError): Failure {
  const code = grpc.status[error.code] ?? String(error.code);
  // grpc-js appends an empty "Resolution note: " to connection failures.
  const details = error.details.replace(/\.?\s*Resolution note:\s*$/, "") || "(no details)";
  switch (error.code) {
    case grpc.status.INVALID_ARGUMENT: {
      const violations = fieldViolations(error);
      const lines = violations.length > 0 ? violations.map((v) => `  ${v.field}: ${v.reason}`) : [`  ${details}`];
      return { message: [`${rpc} rejected the request (INVALID_ARGUMENT):`, ...lines].join("\n"), exitCode: EXIT.INVALID };
    }
    case grpc.status.FAILED_PRECONDITION: {
      // A refused reconfiguration lists every rule it breaks.
      const violations = fieldViolations(error);
      if (violations.length === 0) return { message: `${rpc} failed (${code}): ${details}`, exitCode: EXIT.FAILURE };
      return { message: [`${rpc} refused the change (FAILED_PRECONDITION); nothing was changed:`, ...violations.map((v) => `  ${v.field}: ${v.reason}`)].join("\n"), exitCode: EXIT.FAILURE };
    }
    case grpc.status.ABORTED:
      return { message: `${rpc} was aborted (ABORTED): ${details}\n  someone changed the service meanwhile: look at it again (corral get) and retry`, exitCode: EXIT.ABORTED };
    case grpc.status.NOT_FOUND:
      return { message: `${details} (NOT_FOUND)`, exitCode: EXIT.NOT_FOUND };
    case grpc.status.UNAVAILABLE:
      // Replicas: one line naming every address tried (none led, or none answered).
      if (tried.length > 1) {
        return {
          message: `${rpc}: no Corral scheduler leads at ${tried.join(", ")} (UNAVAILABLE at ${address}: ${details}); set the addresses with --server or CORRAL_SERVER`,
          exitCode: EXIT.UNAVAILABLE,
        };
      }
      return {
        message: `cannot reach the Corral scheduler at ${address} (UNAVAILABLE: ${details})\n  is the scheduler running at ${address}? Set the address with --server or CORRAL_SERVER.`,
        exitCode: EXIT.UNAVAILABLE,
      };
    case grpc.status.UNIMPLEMENTED:
      return { message: `the scheduler at ${address} does not implement ${rpc} yet (UNIMPLEMENTED: ${details})`, exitCode: EXIT.FAILURE };
    case grpc.status.DEADLINE_EXCEEDED:
      return {
        message: `${rpc} got no answer from ${address} within ${deadlineMs ?? "the"} ms (DEADLINE_EXCEEDED); raise it with --deadline`,
        exitCode: EXIT.FAILURE,
      };
    case grpc.status.UNAUTHENTICATED:
      return { message: `the scheduler at ${address} did not accept the credentials (UNAUTHENTICATED: ${details}); check --token-file and --tls-*`, exitCode: EXIT.FAILURE };
    case grpc.status.PERMISSION_DENIED:
      return { message: `${rpc} is not allowed for these credentials (PERMISSION_DENIED: ${details})`, exitCode: EXIT.FAILURE };
    default:
      return { message: `${rpc} failed (${code}): ${details}`, exitCode: EXIT.FAILURE };
  }
}
