/**
 * Binding the API's port before anything else starts, waiting for a scheduler being replaced to
 * free it (--wait-for-lock).
 */
import type pino from "pino";
import { createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { hostOf } from "./adapters/grpc/auth.js";
import type { AdminServer } from "./adapters/grpc/server.js";
import { listenError } from "./adapters/listen-errors.js";

/**
 * Binds the API's port. A port already in use is refused with one line naming the address and
 * --listen; while `deadline` (now + --wait-for-lock) has not passed, an address in use is tried
 * again every 250 ms — a scheduler being replaced frees its port before its lock. An aborted
 * `signal` ends the wait with `signal.reason`, nothing bound.
 */
export async function bindApi(
  server: AdminServer,
  address: string,
  deadline: number,
  logger: pino.Logger,
  signal: AbortSignal | undefined,
): Promise<{ host: string; port: number }> {
  const host = hostOf(address);
  const port = Number(address.slice(address.lastIndexOf(":") + 1));
  for (let waiting = false; ; waiting = true) {
    signal?.throwIfAborted();
    const problem = port === 0 ? undefined : await portProblem(host, port);
    if (problem === undefined) break;
    if (problem.code !== "EADDRINUSE" || Date.now() >= deadline) throw listenError(address, problem);
    if (!waiting) logger.info({ address, waitMs: deadline - Date.now() }, "the listen address is in use; waiting for it (--wait-for-lock)");
    await sleep(Math.min(250, Math.max(1, deadline - Date.now())), undefined, { signal }).catch(() => undefined);
  }
  try {
    return await server.listen(address);
  } catch (err) {
    throw listenError(address, err);
  }
}

/** Why `host:port` cannot be listened on (a short-lived probe with node:net), or undefined. */
async function portProblem(host: string, port: number): Promise<NodeJS.ErrnoException | undefined> {
  const probe = createServer();
  return new Promise((resolve) => {
    probe.once("error", (err: NodeJS.ErrnoException) => resolve(err));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve(undefined)));
  });
}

