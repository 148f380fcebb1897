/**
 * Why an address cannot be listened on, in one line, for the gRPC API and the metrics endpoint:
 * `cannot listen on 127.0.0.1:50051: address already in use (choose another with --listen)`.
 */
import { SchedulerError } from "../domain/errors.js";

const LISTEN_REASONS: Readonly<Record<string, string>> = {
  EADDRINUSE: "address already in use",
  EACCES: "permission denied (ports below 1024 need privileges)",
  EADDRNOTAVAIL: "address not available on this machine",
  ENOTFOUND: "unknown host",
  EAI_AGAIN: "host name lookup failed",
};

/** The reason of a failed listen: the errno's words, else the error's message. */
export function listenReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return (code !== undefined ? LISTEN_REASONS[code] : undefined) ?? (err instanceof Error ? err.message : String(err));
}

/** `cannot listen on ADDRESS: REASON (choose another with FLAG)`, failed_precondition. */
export function listenError(address: string, err: unknown, flag = "--listen"): SchedulerError {
  return new SchedulerError("failed_precondition", `cannot listen on ${address}: ${listenReason(err)} (choose another with ${flag})`, { cause: err });
}
