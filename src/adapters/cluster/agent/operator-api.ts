/**
 * `POST /api/v1`: the operator calls tooling needs, in Mesos' operator JSON shapes — GET_HEALTH,
 * GET_FRAMEWORKS, GET_AGENTS, GET_TASKS and GET_STATE (the three together). A task's latest
 * status carries `container_status.executor_pid`, its pid while it runs. Deviation: tasks show
 * one status (the latest), and completed_tasks holds only ended tasks whose last update the
 * framework has not acknowledged yet (the books forget the others).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { TaskStatus } from "../../../domain/cluster.js";
import { isTerminal } from "../../../domain/cluster.js";
import { encodeLabels, idOf, JsonReader, type Json, type JsonObject } from "../mesos/json-codec.js";
import { encodeResource } from "../mesos/json-codec-resources.js";
import { encodeTaskStatus, type AgentMasterInfo } from "./event-codec.js";
import type { FrameworkHost } from "./framework-host.js";
import type { Frameworks } from "./frameworks.js";
import { header, readBody, reply, replyJson } from "./http-util.js";

export interface OperatorApiContext {
  readonly frameworks: Frameworks;
  readonly master: () => AgentMasterInfo;
  readonly startedAtMs: number;
}

const CALLS = new Set(["GET_HEALTH", "GET_FRAMEWORKS", "GET_AGENTS", "GET_TASKS", "GET_STATE"] as const);

export async function operatorApi(ctx: OperatorApiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== "POST") return reply(res, 405, `Expecting one of { 'POST' }, but received '${req.method ?? ""}'`, { Allow: "POST" });
  const contentType = header(req, "content-type");
  if (contentType === undefined) return reply(res, 400, "Expecting 'Content-Type' to be present");
  if (contentType !== "application/json") return reply(res, 415, `Expecting 'Content-Type' of application/json (this agent speaks JSON only); got '${contentType}'`);
  const body = await readBody(req, res);
  if (body === undefined) return;
  let type: string;
  try {
    const r = new JsonReader(JSON.parse(body.toString("utf8")) as Json, "$");
    type = r.at("type").enumOf(CALLS);
  } catch (err) {
    return reply(res, 400, `Failed to validate master::Call: ${(err as Error).message}`);
  }
  switch (type) {
    case "GET_HEALTH":
      return replyJson(res, 200, { type, get_health: { healthy: true } });
    case "GET_FRAMEWORKS":
      return replyJson(res, 200, { type, get_frameworks: getFrameworks(ctx) });
    case "GET_AGENTS":
      return replyJson(res, 200, { type, get_agents: getAgents(ctx) });
    case "GET_TASKS":
      return replyJson(res, 200, { type, get_tasks: getTasks(ctx) });
    default:
      return replyJson(res, 200, {
        type: "GET_STATE",
        get_state: { get_tasks: getTasks(ctx), get_executors: {}, get_frameworks: getFrameworks(ctx), get_agents: getAgents(ctx) },
      });
  }
}

function timeInfo(ms: number): JsonObject {
  return { nanoseconds: Math.round(ms * 1e6) };
}

function getFrameworks(ctx: OperatorApiContext): JsonObject {
  const entry = (h: FrameworkHost): JsonObject => ({
    framework_info: {
      id: idOf(h.frameworkId),
      user: h.info.user ?? "",
      name: h.info.name ?? "",
      roles: [...h.roles],
      ...(h.info.principal !== undefined ? { principal: h.info.principal } : {}),
      failover_timeout: h.info.failoverTimeoutS,
      checkpoint: h.info.checkpoint,
      capabilities: h.info.capabilities.map((type) => ({ type })),
    },
    active: h.connected,
    connected: h.connected,
    recovered: false,
    registered_time: timeInfo(h.registeredAtMs),
  });
  const hosts = ctx.frameworks.all();
  return {
    frameworks: hosts.filter((h) => !h.removed).map(entry),
    completed_frameworks: hosts.filter((h) => h.removed).map(entry),
  };
}

function getAgents(ctx: OperatorApiContext): JsonObject {
  const first = ctx.frameworks.all()[0];
  const master = ctx.master();
  const specs = ctx.frameworks.agentSpecs;
  const agents = ctx.frameworks.agentIds.map((id, i): JsonObject => {
    const spec = specs[i] ?? {};
    const books = first?.sim.agentResources(id);
    const used = ctx.frameworks.all().flatMap((h) => h.sim.agentResources(id).used);
    const attributes = Object.entries(spec.attributes ?? {}).map(([name, value]) => ({ name, type: "TEXT", text: { value } }));
    const total = (books?.total ?? []).map((r) => encodeResource(r));
    return {
      agent_info: {
        id: idOf(id),
        hostname: spec.hostname ?? master.hostname,
        port: master.port,
        resources: total,
        ...(attributes.length > 0 ? { attributes } : {}),
      },
      active: !ctx.frameworks.lostAgents.has(id),
      version: "1.11.0",
      pid: `slave(1)@127.0.0.1:${master.port}`,
      registered_time: timeInfo(ctx.startedAtMs),
      total_resources: total,
      allocated_resources: used.map((r) => encodeResource(r)),
    };
  });
  return { agents, recovered_agents: [] };
}

function getTasks(ctx: OperatorApiContext): JsonObject {
  const tasks: JsonObject[] = [];
  const completed: JsonObject[] = [];
  for (const h of ctx.frameworks.all()) {
    for (const { saved, pid } of h.tasks()) {
      const t = saved.info;
      const latest: TaskStatus = { ...(saved.lastSent ?? {}), taskId: t.taskId, agentId: saved.agentId, state: saved.state, timestampMs: saved.lastSent?.timestampMs ?? Date.now() };
      const { uuid: _uuid, ...status } = latest;
      const entry: JsonObject = {
        name: t.name,
        task_id: idOf(t.taskId),
        framework_id: idOf(saved.frameworkId),
        executor_id: idOf(saved.executor.executorId),
        agent_id: idOf(saved.agentId),
        state: saved.state,
        resources: t.resources.map((r) => encodeResource(r)),
        statuses: [encodeTaskStatus(status, pid)],
        status_update_state: saved.state,
        ...(Object.keys(t.labels).length > 0 ? { labels: encodeLabels(t.labels) } : {}),
        user: t.command.user ?? h.info.user ?? "",
      };
      (isTerminal(saved.state) ? completed : tasks).push(entry);
    }
  }
  return { tasks, completed_tasks: completed };
}

