/**
 * `corral/client`: typed promise clients for corral.v1.MultiServiceAdmin (and any other
 * protobuf-es service, e.g. grpc.health.v1.Health) over @grpc/grpc-js.
 *
 * ```ts
 * const admin = createAdminClient({ address: "127.0.0.1:7070" }); // or "a:7070,b:7070,c:7070": replicas
 * const { service } = await admin.getService({ name: "team/db" });
 * for await (const { event } of admin.watchUninstall({ names: ["team/db"] })) console.log(event);
 * const { tasks } = await admin.listTasks({ name: "team/db" }); // id, pod instance, state, pid, sandbox…
 * // A task's stdout, its last 10 lines and then what it writes, until the sandbox goes away:
 * for await (const { data } of admin.taskLog({ name: "team/db", task: "db-0-server", tailLines: 10, follow: true })) {
 *   process.stdout.write(data);
 * }
 * await admin.putSecret({ name: "team/db-password", value: new TextEncoder().encode(password) });
 * const { endpoints } = await admin.getEndpoints({ serviceName: "team/db" }); // name, address[], dns[], vip
 * admin.close();
 * ```
 * Every method of the descriptor is there, typed from it: the unary ones (putService,
 * listServices, getService, getPlan, uninstallService, getScheduler, listTasks, the steering and
 * secret methods, getEndpoints) return promises,
 * the server-streaming ones (watchUninstall, taskLog, watchPlans) async iterables; breaking out of the loop
 * (or aborting `signal`) cancels the stream.
 * Failed calls reject with a grpc-js `ServiceError` (`code`, `details`, `metadata`); use
 * `fieldViolations(err)` to read the fields an INVALID_ARGUMENT names.
 *
 * Replicas: give every scheduler of a replicated Corral (`address: "a:7070,b:7070,c:7070"` or
 * `addresses: [...]`) and each call goes to the leader. A standby answers UNAVAILABLE naming the
 * leader (`corral-leader` trailer) and the call is sent there; an address that cannot be reached
 * is passed for the next. A call is sent again only when it certainly did not run (a standby's
 * refusal, a connection never made) or running it twice changes nothing (reads, PutService,
 * UninstallService, PutSecret): retry-rule.ts. The client remembers who answered and starts
 * there; `callTrail(err)` names the addresses a failed call tried. Redirect, not proxy: the call
 * goes straight to the leader, so the token and TLS stay end to end.
 *
 * Across a change of leader, watch with `followUninstall` / `followPlans` (same request and
 * messages as watchUninstall / watchPlans): a broken stream is issued again at the new leader
 * after the last sequence seen, so each event comes exactly once:
 * ```ts
 * const admin = createAdminClient({ address: "a:7070,b:7070,c:7070", onLeaderChange: (to) => log(`leader ${to}`) });
 * for await (const { event } of admin.followPlans({ names: ["team/db"] }, { signal })) console.log(event);
 * ```
 */
import * as grpc from "@grpc/grpc-js";
import { decodeViolations } from "../adapters/grpc/status.js";
import type { FieldViolation } from "../domain/errors.js";

export * from "../../gen/corral/v1/admin_pb.js";
export { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
export type { FieldViolation } from "../domain/errors.js";
export { createPromiseClient } from "./promise-client.js";
export type { CallOptions, PromiseClient, PromiseClientOptions } from "./promise-client.js";
export { createAdminClient } from "./admin-client.js";
export type { AdminClient, AdminClientOptions } from "./admin-client.js";
export type { FollowOptions } from "./follow-stream.js";
export { callTrail } from "./leader-router.js";
export type { CallTrail } from "./leader-router.js";
export { parseAddresses } from "./addresses.js";

/** The field violations an INVALID_ARGUMENT error carries; [] for anything else. */
export function fieldViolations(err: unknown): FieldViolation[] {
  const metadata = (err as { metadata?: unknown } | null)?.metadata;
  return metadata instanceof grpc.Metadata ? decodeViolations(metadata) : [];
}

