/**
 * When a failed call may be sent again, to the leader or to another address — the one rule that
 * keeps following the leader from ever doing a change twice:
 *
 * 1. UNAVAILABLE with the `corral-leader` trailer: a standby refused the call before acting (it
 *    holds no engine); it is re-sent to the leader it names, whatever the method.
 * 2. UNAVAILABLE before the call left: grpc-js found no connection to the address (connection
 *    refused, name not resolved, stream refused by the server), so nothing was sent; the next
 *    address is tried, whatever the method.
 * 3. Any other UNAVAILABLE (the connection dropped after the call was sent, a scheduler that is
 *    starting or reloading, a standby that knows no leader, a store write that timed out and may
 *    have been applied): the call may have run. It is tried at the next address only when running
 *    it twice changes nothing a first run did: the reads, the watches, PutService (the same spec
 *    again answers UNCHANGED; with `expectedGeneration` a put that did run makes the repeat fail
 *    ABORTED, which is the truth), UninstallService (a service being removed stays so) and
 *    PutSecret (the same bytes again). ControlPlan, ControlPod (a second restart kills again) and
 *    DeleteSecret (the repeat would answer NOT_FOUND) are not repeated.
 * 4. Every other failure is the answer.
 */
import * as grpc from "@grpc/grpc-js";
import { leaderOf } from "../adapters/grpc/status.js";

/** Method local names (as on the client) whose second run changes nothing the first did. */
export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set([
  "listServices",
  "getService",
  "getPlan",
  "getScheduler",
  "listTasks",
  "taskLog",
  "listPlans",
  "listPods",
  "watchUninstall",
  "watchPlans",
  "listSecrets",
  "getEndpoints",
  "putService",
  "uninstallService",
  "putSecret",
]);

/** What to do after a failed attempt. */
export type NextStep =
  | { readonly kind: "leader"; readonly address: string }
  | { readonly kind: "next"; readonly reason: "unreached" | "unavailable" }
  | { readonly kind: "fail" };

/** grpc-js' own details for a call that never got onto a connection. */
const NOT_SENT = /No connection established|Name resolution failed|Stream refused by server/;

export function nextStep(err: unknown, method: string): NextStep {
  if (!isStatus(err) || err.code !== grpc.status.UNAVAILABLE) return { kind: "fail" };
  const leader = leaderOf(err.metadata);
  if (leader !== undefined) return { kind: "leader", address: leader };
  if (neverSent(err)) return { kind: "next", reason: "unreached" };
  return IDEMPOTENT_METHODS.has(method) ? { kind: "next", reason: "unavailable" } : { kind: "fail" };
}

/** A status grpc-js made up itself (no server trailers at all) saying the call never left. */
export function neverSent(err: { readonly details?: unknown; readonly metadata?: unknown }): boolean {
  const fromServer = err.metadata instanceof grpc.Metadata && Object.keys(err.metadata.getMap()).length > 0;
  return !fromServer && typeof err.details === "string" && NOT_SENT.test(err.details);
}

export interface StatusLike {
  readonly code: number;
  readonly details?: string;
  readonly metadata?: grpc.Metadata;
}

export function isStatus(err: unknown): err is StatusLike {
  return typeof err === "object" && err !== null && typeof (err as { code?: unknown }).code === "number";
}
