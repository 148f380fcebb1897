/**
 * node-zookeeper-client 1.1.3's errors as SchedulerErrors, and a deadline on its callback calls
 * (the library queues requests forever while disconnected and never notices a hung server).
 * Shared by the ZooKeeper store and the Mesos master detector.
 */
import zookeeper from "node-zookeeper-client";
import { SchedulerError } from "../../domain/errors.js";
import type { ErrorCode } from "../../domain/errors.js";

const { Exception } = zookeeper;

/** The library's error: an Exception with a numeric code (ZooKeeper's KeeperException codes). */
export function zkCode(err: unknown): number | undefined {
  if (err && typeof err === "object" && "code" in err && typeof err.code === "number") return err.code;
  return undefined;
}

/** ZooKeeper result code → our code. Unknown codes are internal. */
export function codeFor(zk: number): ErrorCode {
  switch (zk) {
    case Exception.NO_NODE:
      return "not_found";
    case Exception.NODE_EXISTS:
      return "already_exists";
    case Exception.BAD_VERSION:
    case Exception.NOT_EMPTY:
      return "aborted";
    case Exception.CONNECTION_LOSS:
    case Exception.SESSION_EXPIRED:
    case Exception.OPERATION_TIMEOUT:
      return "unavailable";
    case Exception.BAD_ARGUMENTS:
      return "invalid_argument";
    default:
      return "internal";
  }
}

/** Maps whatever the library reported (an Exception, an AssertionError, …) to a SchedulerError. */
export function mapZkError(err: unknown, what: string): SchedulerError {
  if (err instanceof SchedulerError) return err;
  const code = zkCode(err);
  const text = err instanceof Error ? err.message : String(err);
  if (code === undefined) {
    return new SchedulerError("internal", `zookeeper ${what}: ${text}`, { cause: err });
  }
  return new SchedulerError(codeFor(code), `zookeeper ${what}: ${text}`, { cause: err });
}

export function zkErrorCode(err: unknown): number | undefined {
  return zkCode(err);
}

/**
 * Runs one callback-style call with a deadline. A call that has not answered when the deadline
 * passes rejects with unavailable (its effect, for a write, is unknown); a late answer is dropped.
 * A synchronous throw (the library asserts on oversized data) becomes a rejection.
 */
export function withDeadline<T>(
  what: string,
  timeoutMs: number,
  start: (done: (err: unknown, value?: T) => void) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      reject(
        new SchedulerError("unavailable", `zookeeper ${what}: no answer within ${timeoutMs} ms (deadline exceeded)`),
      );
    }, timeoutMs);
    const done = (err: unknown, value?: T): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(mapZkError(err, what));
      else resolve(value as T);
    };
    try {
      start(done);
    } catch (err) {
      done(err ?? new Error("threw"));
    }
  });
}
