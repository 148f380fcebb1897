/**
 * Bench (p)'s mono (schema-1) stores: one hello-world service deployed for real (bench/fixture.ts)
 * gives the node contents, and a mono service of N tasks is written through the engine's own
 * layout — `MonoLayoutPersister` over the store, `ServiceStore.addOps` for the context, config
 * and target, `StateStore` ops for each task's TaskInfo, TaskStatus and Confirmed — so the root
 * holds exactly what a mono scheduler leaves. Mono reservations carry no namespace label.
 */
import { randomUUID } from "node:crypto";
import type { Resource, TaskInfo, TaskStatus } from "../src/domain/cluster.js";
import type { ServiceSpec } from "../src/domain/spec/types.js";
import type { Persister, PersisterOp } from "../src/engine/ports.js";
import { decodeContext } from "../src/engine/service-context.js";
import { encodeText } from "../src/engine/store/codec.js";
import { SCHEMA_VERSION } from "../src/engine/store/layout.js";
import { MonoLayoutPersister } from "../src/engine/store/mono-layout.js";
import { ServiceStore } from "../src/engine/store/service-store.js";
import { StateStore } from "../src/engine/store/state-store.js";
import { packOps } from "../src/engine/store/tree.js";
import type { ServiceTemplate } from "./fixture.js";

/** The mono service's (and framework's) name. */
export const FRAMEWORK = "mono-bench";

const TEMPLATE = "tmpl-000000";
const enc = new TextEncoder();

/** A realistic executor message: a stored RUNNING status is ~0.5 KB. */
const message = (task: string, agent: string, uuid: string): string =>
  `Task ${task} is running: command '/bin/sh -c trap ... while true; do sleep 1; done' as user root in sandbox ` +
  `/var/lib/mesos/slaves/${agent}/frameworks/${FRAMEWORK}/executors/${task}/runs/${uuid}`;

function leaf(template: ServiceTemplate, suffix: string): string {
  const found = template.leaves.find((l) => l.path.endsWith(suffix));
  if (!found) throw new Error(`the template has no node ending with ${suffix}`);
  return found.text.replaceAll(TEMPLATE, FRAMEWORK);
}

/** Mono reservations: our resource_id (fresh per task) and framework_id, no namespace label. */
function monoResources(resources: readonly Resource[]): Resource[] {
  return resources.map((r) => {
    if (!r.reservations) return r;
    const reservations = r.reservations.map((res) => {
      const { namespace: _namespace, ...labels } = res.labels;
      return { ...res, labels: { ...labels, resource_id: randomUUID() } };
    });
    return { ...r, reservations };
  });
}

/** The ops (schema-2 paths, for `mono`, the mono view) of the service with `tasks` hello instances. */
function monoServiceOps(mono: Persister, template: ServiceTemplate, tasks: number): PersisterOp[] {
  const context = { ...decodeContext(enc.encode(leaf(template, "/Context"))), defaultUser: "root" };
  const configId = leaf(template, "/ConfigTarget");
  const spec = JSON.parse(leaf(template, `/Configurations/${configId}`)) as ServiceSpec;
  const info = JSON.parse(leaf(template, "/hello-0-server/TaskInfo")) as TaskInfo;
  const status = JSON.parse(leaf(template, "/hello-0-server/TaskStatus")) as TaskStatus;
  const state = new StateStore(mono, FRAMEWORK);
  const ops = new ServiceStore(mono).addOps(context, configId, spec);
  for (let i = 0; i < tasks; i++) {
    const name = `hello-${i}-server`;
    const taskId = `${FRAMEWORK}__${name}__${randomUUID()}`;
    const agentId = `${info.agentId.slice(0, -2)}S${i % 100}`;
    const taskInfo: TaskInfo = {
      ...info,
      name,
      taskId,
      agentId,
      resources: monoResources(info.resources),
      command: { ...info.command, environment: { ...info.command.environment, TASK_NAME: name, POD_INSTANCE_INDEX: String(i) } },
      labels: { ...info.labels, index: String(i) },
    };
    const uuid = randomUUID();
    const taskStatus: TaskStatus = { ...status, taskId, agentId, uuid, healthy: true, message: message(name, agentId, uuid), timestampMs: status.timestampMs + i };
    ops.push(...state.taskInfoOps(taskInfo), ...state.statusOps(name, taskStatus, true));
  }
  return ops;
}

const valueBytes = (op: PersisterOp | undefined): number => (op && (op.kind === "set" || op.kind === "create") ? op.data.byteLength : 0);

/** What a mono store was filled with: nodes and value bytes, and one task's node sizes. */
export interface MonoFill {
  readonly nodes: number;
  readonly bytes: number;
  readonly taskInfoBytes: number;
  readonly taskStatusBytes: number;
}

/**
 * Writes a mono store of `tasks` tasks into the empty `store`: SchemaVersion 1, then the
 * service through the mono view, in multis the store takes (SQLite: one), in turn.
 */
export async function fillMono(store: Persister, template: ServiceTemplate, tasks: number): Promise<MonoFill> {
  const mono = new MonoLayoutPersister(store, FRAMEWORK);
  const ops = monoServiceOps(mono, template, tasks);
  await store.multi([{ kind: "set", path: SCHEMA_VERSION, data: encodeText("1") }]);
  // One multi after the other: concurrent ones would race to create the parents they share
  // (`Tasks`, a task cut across two multis), which the ZooKeeper persister re-plans only once.
  for (const multi of packOps(ops, store.maxMultiBytes ?? Number.POSITIVE_INFINITY)) await mono.multi(multi);
  return {
    nodes: ops.length,
    bytes: ops.reduce((sum, op) => sum + valueBytes(op), 0),
    taskInfoBytes: valueBytes(ops.find((o) => o.path.endsWith("/TaskInfo"))),
    taskStatusBytes: valueBytes(ops.find((o) => o.path.endsWith("/TaskStatus"))),
  };
}
