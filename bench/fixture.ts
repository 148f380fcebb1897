/**
 * Realistic stored services for the store benchmarks: one hello-world service is put and
 * deployed for real (scheduler + simulated cluster + memory store, fake clock), and its stored
 * nodes (Context, ConfigTarget, Configurations/<id>, and per task TaskInfo, TaskStatus,
 * Confirmed) are copied for N services with the name swapped (same length, so same sizes).
 */
import type { Persister, PersisterOp } from "../src/engine/ports.js";
import { mapLimit } from "../src/engine/store/concurrency.js";
import { createHarness } from "../test/harness/harness.js";

const TEMPLATE = "tmpl-000000";
export const serviceName = (i: number): string => `svc-${String(i).padStart(7, "0")}`;

/** Leaf nodes of one deployed hello-world service: relative path → bytes (as text; JSON). */
export interface ServiceTemplate {
  readonly leaves: readonly { readonly path: string; readonly text: string }[];
  /** The stored task nodes' TaskStatus paths and values, for status benchmarks. */
  readonly statuses: readonly { readonly task: string; readonly text: string }[];
  readonly bytes: number;
}

async function leavesOf(store: Persister, path: string, out: { path: string; text: string }[]): Promise<void> {
  const children = await store.children(path);
  if (children.length === 0) {
    const v = await store.get(path);
    if (v) out.push({ path, text: Buffer.from(v.data).toString("utf8") });
    return;
  }
  for (const c of children) await leavesOf(store, `${path}/${c}`, out);
}

export async function deployedTemplate(): Promise<ServiceTemplate> {
  const h = await createHarness({ agents: 3 });
  await h.put(TEMPLATE, "hello-world.yml");
  await h.deployAll([TEMPLATE]);
  await h.advance(30_000); // readiness and health settle
  await h.scheduler.stop();
  const leaves: { path: string; text: string }[] = [];
  await leavesOf(h.persister, `ServiceList/${TEMPLATE}`, leaves);
  await leavesOf(h.persister, `Services/${TEMPLATE}`, leaves);
  h.cluster.stop();
  const statuses = leaves
    .filter((l) => l.path.endsWith("/TaskStatus"))
    .map((l) => ({ task: l.path.split("/").at(-2)!, text: l.text }));
  return { leaves, statuses, bytes: leaves.reduce((s, l) => s + Buffer.byteLength(l.text), 0) };
}

const enc = new TextEncoder();

/** The ops that store service `name` as the template's copy. */
export function serviceOps(template: ServiceTemplate, name: string): PersisterOp[] {
  if (name.length !== TEMPLATE.length) throw new Error(`bench service names have ${TEMPLATE.length} characters`);
  return template.leaves.map((l) => ({
    kind: "set",
    path: l.path.replaceAll(TEMPLATE, name),
    data: enc.encode(l.text.replaceAll(TEMPLATE, name)),
  }));
}

/** Stores N copies, one multi per service, `concurrency` multis in flight (pipelined/group-committed). */
export async function fillServices(store: Persister, template: ServiceTemplate, n: number, concurrency = 64): Promise<void> {
  await store.multi([{ kind: "set", path: "SchemaVersion", data: enc.encode("2") }]);
  await mapLimit(
    Array.from({ length: n }, (_, i) => i),
    concurrency,
    (i) => store.multi(serviceOps(template, serviceName(i))),
  );
}
