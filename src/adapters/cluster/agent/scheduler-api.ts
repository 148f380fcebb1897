/**
 * `POST /api/v1/scheduler` with the master's checks in the master's order (mesos-v1-api.md §1.1):
 * 307 / 503 (chaos), 405, 400 / 415 content type, 400 body, 406 on SUBSCRIBE, 400 SUBSCRIBE with
 * a stream id, 400 unknown framework, 403 not subscribed, 400 missing or stale stream id, then
 * 202 with an empty body (or the SUBSCRIBE stream). Deviation: JSON only; application/x-protobuf
 * gets 415 saying so.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Clock, Logger, Random } from "../../../engine/ports.js";
import type { Json } from "../mesos/json-codec.js";
import { decodeCall, frameworkInfoProblem, type AgentCall } from "./call-codec.js";
import type { ChaosKnobs } from "./chaos.js";
import { EventStream } from "./event-stream.js";
import type { FrameworkHost } from "./framework-host.js";
import type { Frameworks } from "./frameworks.js";
import { acceptsJson, header, readBody, reply } from "./http-util.js";

export interface SchedulerApiContext {
  readonly frameworks: Frameworks;
  readonly chaos: () => ChaosKnobs;
  readonly clock: Clock;
  readonly random: Random;
  readonly log: Logger;
  readonly heartbeatIntervalS: number;
  /** Every open subscription stream (chaos drop_streams). */
  readonly streams: Set<EventStream>;
}

export async function schedulerApi(ctx: SchedulerApiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chaos = ctx.chaos();
  if (chaos.redirect !== null) return reply(res, 307, "", { Location: `//${chaos.redirect}/api/v1/scheduler` });
  if (chaos.unavailable) return reply(res, 503, "Master has not finished recovery");
  if (req.method !== "POST") return reply(res, 405, `Expecting one of { 'POST' }, but received '${req.method ?? ""}'`, { Allow: "POST" });
  const contentType = header(req, "content-type");
  if (contentType === undefined) return reply(res, 400, "Expecting 'Content-Type' to be present");
  if (contentType !== "application/json") {
    return reply(res, 415, `Expecting 'Content-Type' of application/json (this agent speaks JSON only, not application/x-protobuf); got '${contentType}'`);
  }
  const body = await readBody(req, res);
  if (body === undefined) return;
  let json: Json;
  try {
    json = JSON.parse(body.toString("utf8")) as Json;
  } catch (err) {
    return reply(res, 400, `Failed to parse body into JSON: ${(err as Error).message}`);
  }
  const call = decodeCall(json);
  if (!call.ok) return reply(res, 400, `Failed to validate scheduler::Call: ${call.error.message}`);
  const c = call.value;
  if (c.type === "SUBSCRIBE") {
    if (!acceptsJson(header(req, "accept"))) return reply(res, 406, "Expecting 'Accept' to allow application/json");
    if (header(req, "mesos-stream-id") !== undefined) return reply(res, 400, "Subscribe calls should not include the 'Mesos-Stream-Id' header");
    return subscribe(ctx, c, res);
  }
  const host = ctx.frameworks.get(c.frameworkId);
  if (!host) return reply(res, 400, "Framework cannot be found");
  if (!host.connected) return reply(res, 403, "Framework is not subscribed");
  const streamId = header(req, "mesos-stream-id");
  if (streamId === undefined) return reply(res, 400, "All non-subscribe calls should include the 'Mesos-Stream-Id' header");
  if (streamId !== host.streamId) {
    return reply(res, 400, `The stream ID '${streamId}' included in this request didn't match the stream ID currently associated with framework ID ${c.frameworkId}`);
  }
  reply(res, 202);
  // Worked on after the answer has gone out, as a master does; calls keep their order.
  await new Promise((resolve) => setImmediate(resolve));
  try {
    await dispatch(ctx, host, c);
  } catch (err) {
    ctx.log.warn({ err, call: c.type, frameworkId: c.frameworkId }, "agent: call failed after it was accepted");
  }
}

/** SUBSCRIBE: a 200 stream whose first record is SUBSCRIBED, or ERROR and the end (§2 step 3). */
async function subscribe(ctx: SchedulerApiContext, c: Extract<AgentCall, { type: "SUBSCRIBE" }>, res: ServerResponse): Promise<void> {
  const info = c.frameworkInfo;
  let host: FrameworkHost | undefined;
  const stream: EventStream = new EventStream(res, {
    streamId: ctx.random.uuid(),
    clock: ctx.clock,
    heartbeatIntervalS: ctx.heartbeatIntervalS,
    chaos: ctx.chaos,
    onLost: () => {
      ctx.streams.delete(stream);
      host ??= info.id !== undefined ? ctx.frameworks.get(info.id) : undefined;
      host?.streamLost(stream);
    },
  });
  // Several roles are served (one set of books, one offer per role); until call-codec.ts drops
  // its one-role check, it sees only the first role of a list without duplicates.
  const distinct = new Set(info.roles).size === info.roles.length;
  const problem = frameworkInfoProblem(distinct ? { ...info, roles: info.roles.slice(0, 1) } : info);
  const refusal = problem ?? (info.id !== undefined && ctx.frameworks.isRemoved(info.id) ? "Framework has been removed" : undefined);
  if (refusal !== undefined) {
    stream.send({ kind: "error", message: refusal });
    stream.end();
    return;
  }
  for (const s of ctx.streams) if (!s.open) ctx.streams.delete(s);
  ctx.streams.add(stream);
  const id = await ctx.frameworks.subscribe(info, stream, c.suppressedRoles);
  host = ctx.frameworks.get(id);
  ctx.log.info({ frameworkId: id, name: info.name, streamId: stream.streamId }, "agent: framework subscribed");
  if (!stream.open) host?.streamLost(stream); // the client left while we subscribed it
}

async function dispatch(ctx: SchedulerApiContext, host: FrameworkHost, c: Exclude<AgentCall, { type: "SUBSCRIBE" }>): Promise<void> {
  const forRole = (roles: readonly string[]): boolean => roles.length === 0 || roles.includes(host.role);
  switch (c.type) {
    case "TEARDOWN":
      await ctx.frameworks.teardown(host);
      return;
    case "ACCEPT":
      if (c.skipped.length > 0) ctx.log.warn({ frameworkId: c.frameworkId, operations: c.skipped }, "agent: operations this agent does not run were skipped");
      await host.accept(c.offerIds, c.operations, c.filters);
      if (c.refused.length > 0) host.refuse(c.refused);
      return;
    case "DECLINE":
      await host.decline(c.offerIds, c.filters);
      return;
    case "REVIVE":
      if (forRole(c.roles)) await host.sim.revive();
      return;
    case "SUPPRESS":
      if (forRole(c.roles)) await host.sim.suppress();
      return;
    case "KILL":
      await host.kill(c.taskId, c.agentId);
      return;
    case "ACKNOWLEDGE":
      await host.acknowledge(c.agentId, c.taskId, c.uuid);
      return;
    case "RECONCILE":
      await host.sim.reconcile(c.tasks);
      return;
    case "IGNORED":
      ctx.log.debug({ frameworkId: c.frameworkId, call: c.name }, "agent: call accepted and ignored");
      return;
  }
}
