/**
 * TaskInfo and ExecutorInfo read back from Mesos v1 JSON into the domain types (the local
 * agent's side of LAUNCH_GROUP). Shape faults throw (a 400); what Mesos's master would refuse
 * with TASK_ERROR is pushed to `problems`; `share_cgroups`, which the domain does not keep, is
 * returned beside the task for the group checks.
 */
import type { CommandCheck, CommandInfo, ExecutorInfo, Resource, SecretRef, TaskInfo } from "../../../domain/cluster.js";
import type { JsonReader } from "./json-codec.js";
import { decodeContainer, decodeDiscovery, decodeLimits, decodeSecret, isBareContainer, type ContainerWire } from "./json-codec-container.js";
import { decodeResource } from "./json-codec-resources.js";

/** Resources in our domain shape: the offer's allocation role and disk source are dropped (the books do not keep them). */
export function domainResources(list: JsonReader): Resource[] {
  return list.list().flatMap((r) => {
    const d = decodeResource(r);
    if (d.kind === "set") return [];
    const { allocationRole: _a, diskSource: _d, ...resource } = d.resource;
    return [resource];
  });
}

export function decodeExecutor(e: JsonReader, problems: string[]): ExecutorInfo {
  const c = e.at("container");
  const container = c.present() ? decodeContainer(c, problems).container : undefined;
  return {
    executorId: e.at("executor_id").id(),
    frameworkId: e.at("framework_id").optId() ?? "",
    resources: domainResources(e.at("resources")),
    labels: e.at("labels").labels(),
    ...(container !== undefined && !isBareContainer(container) ? { container } : {}),
  };
}

export interface DecodedTask {
  readonly task: TaskInfo;
  readonly wire: ContainerWire;
}

/** A TaskInfo; its problems are named as the master names them ("Task 'x' is invalid: …"). */
export function decodeTask(t: JsonReader, problems: string[]): DecodedTask {
  const own: string[] = [];
  const decoded = decodeTaskOnly(t, own);
  problems.push(...own.map((p) => `Task '${decoded.task.taskId}' is invalid: ${p}`));
  return decoded;
}

function decodeTaskOnly(t: JsonReader, problems: string[]): DecodedTask {
  const health = t.at("health_check");
  const check = t.at("check");
  const grace = t.at("kill_policy").present() ? t.at("kill_policy").at("grace_period") : undefined;
  const killGraceNs = grace?.present() ? grace.at("nanoseconds").integer() : undefined;
  const c = t.at("container");
  const container = c.present() ? decodeContainer(c, problems) : undefined;
  const limits = t.at("limits").present() ? decodeLimits(t.at("limits"), problems) : undefined;
  const executor = t.at("executor").present() ? decodeExecutor(t.at("executor"), problems) : undefined;
  const task: TaskInfo = {
    name: t.at("name").string(),
    taskId: t.at("task_id").id(),
    agentId: t.at("agent_id").id(),
    resources: domainResources(t.at("resources")),
    command: decodeCommand(t.at("command"), problems),
    labels: t.at("labels").labels(),
    ...(health.present() && health.at("command").present() ? { healthCheck: readHealthCheck(health) } : {}),
    ...(check.present() && check.at("command").present() ? { check: readCheck(check) } : {}),
    ...(killGraceNs !== undefined ? { killGracePeriodS: killGraceNs / 1e9 } : {}),
    ...(container !== undefined && !isBareContainer(container.container) ? { container: container.container } : {}),
    ...(t.at("discovery").present() ? { discovery: decodeDiscovery(t.at("discovery")) } : {}),
    ...(limits !== undefined && Object.keys(limits).length > 0 ? { limits } : {}),
    ...(executor !== undefined ? { executor } : {}),
  };
  return { task, wire: container?.wire ?? {} };
}

const VARIABLE_TYPES: ReadonlySet<string> = new Set(["VALUE", "SECRET"]);

/**
 * CommandInfo. Environment rules from common/validation.cpp `validateEnvironment` (TASK_ERROR):
 * a SECRET variable needs a secret and no value; an unknown type name leaves the optional enum
 * unset, which reads as its default VALUE.
 */
export function decodeCommand(c: JsonReader, problems: string[]): CommandInfo {
  const environment: Record<string, string> = {};
  const secretEnvironment: Record<string, SecretRef> = {};
  if (c.present() && c.at("environment").present()) {
    for (const v of c.at("environment").at("variables").list()) {
      const name = v.at("name").string();
      if ((v.at("type").optEnumOf(VARIABLE_TYPES) ?? "VALUE") === "SECRET") {
        const ref = v.at("secret").present() ? decodeSecret(v.at("secret")) : undefined;
        if (v.at("value").present()) problems.push(`Environment variable '${name}' of type 'SECRET' must not have a value set`);
        if (ref === undefined) problems.push(`Environment variable '${name}' of type 'SECRET' must have a secret set`);
        else define(secretEnvironment, name, ref);
      } else {
        define(environment, name, v.at("value").optString() ?? "");
      }
    }
  }
  const user = c.present() ? c.at("user").optString() : undefined;
  const uris = c.present() ? c.at("uris").list().map(decodeUri) : [];
  return {
    value: c.present() ? (c.at("value").optString() ?? "") : "",
    environment,
    ...(Object.keys(secretEnvironment).length > 0 ? { secretEnvironment } : {}),
    ...(user !== undefined ? { user } : {}),
    ...(uris.length > 0 ? { uris } : {}),
  };
}

function decodeUri(u: JsonReader): NonNullable<CommandInfo["uris"]>[number] {
  const executable = u.at("executable").optBoolean();
  const extract = u.at("extract").optBoolean();
  const cache = u.at("cache").optBoolean();
  const outputFile = u.at("output_file").optString();
  return {
    value: u.at("value").string(),
    ...(executable !== undefined ? { executable } : {}),
    ...(extract !== undefined ? { extract } : {}),
    ...(cache !== undefined ? { cache } : {}),
    ...(outputFile !== undefined ? { outputFile } : {}),
  };
}

/** defineProperty: a "__proto__" name is data, not the prototype. */
function define<T>(out: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
}

/** HealthCheck, with the proto's defaults (delay 15, interval 10, timeout 20, failures 3, grace 10). */
function readHealthCheck(h: JsonReader): CommandCheck {
  return {
    command: h.at("command").at("value").optString() ?? "",
    delayS: h.at("delay_seconds").optDouble() ?? 15,
    intervalS: h.at("interval_seconds").optDouble() ?? 10,
    timeoutS: h.at("timeout_seconds").optDouble() ?? 20,
    consecutiveFailures: h.at("consecutive_failures").optInteger() ?? 3,
    gracePeriodS: h.at("grace_period_seconds").optDouble() ?? 10,
  };
}

/** CheckInfo (COMMAND): `command.command.value`; it has no grace period or failure count. */
function readCheck(c: JsonReader): CommandCheck {
  const inner = c.at("command").at("command");
  return {
    command: inner.present() ? (inner.at("value").optString() ?? "") : "",
    delayS: c.at("delay_seconds").optDouble() ?? 15,
    intervalS: c.at("interval_seconds").optDouble() ?? 10,
    timeoutS: c.at("timeout_seconds").optDouble() ?? 20,
    consecutiveFailures: 1,
    gracePeriodS: 0,
  };
}
