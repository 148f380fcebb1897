/**
 * Stores for the migration tests: a mono (schema-1) store as a reference mono scheduler plus
 * Corral's own nodes leave it, and a dump of a whole store. The Persister cannot list its root,
 * so `TopRecorder` remembers the top-level name of every path ever written and the dump walks
 * from those: a node written anywhere shows up.
 */
import { MemoryPersister } from "../../src/adapters/persister/memory-persister.js";
import type { Persister, PersisterOp, Versioned } from "../../src/engine/ports.js";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A MemoryPersister that remembers the first segment of every path written. */
export class TopRecorder implements Persister {
  readonly tops = new Set<string>();
  readonly inner = new MemoryPersister();

  get(path: string): Promise<Versioned | undefined> {
    return this.inner.get(path);
  }

  getMany(paths: readonly string[]): Promise<(Versioned | undefined)[]> {
    return this.inner.getMany(paths);
  }

  children(path: string): Promise<string[]> {
    return this.inner.children(path);
  }

  async multi(ops: readonly PersisterOp[]): Promise<void> {
    for (const op of ops) this.tops.add(op.path.split("/")[0]!);
    await this.inner.multi(ops);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Every node of the store under `tops` (default: every top-level name written) as path → value (hex), sorted by path. */
export async function dumpAll(store: Persister, tops: Iterable<string> = (store as TopRecorder).tops): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (path: string): Promise<void> => {
    const value = await store.get(path);
    if (value) out[path] = Buffer.from(value.data).toString("hex");
    for (const child of await store.children(path)) await walk(`${path}/${child}`);
  };
  for (const top of [...new Set(tops)].sort()) await walk(top);
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** `values` (path → text or bytes) with every ancestor added as an empty node, as hex: a dump's form. */
export function expectedDump(values: Readonly<Record<string, string | Uint8Array>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [path, value] of Object.entries(values)) {
    const segments = path.split("/");
    for (let i = 1; i < segments.length; i++) out[segments.slice(0, i).join("/")] ??= "";
    out[path] = Buffer.from(typeof value === "string" ? enc(value) : value).toString("hex");
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** Binary values (not UTF-8) must come through byte for byte. */
const BINARY = new Uint8Array([0, 255, 128, 10, 0, 7]);

/**
 * The nodes a mono scheduler of `framework` leaves: the reference's four, Corral's own
 * service nodes and context, and nodes outside the service. `tasks` adds bulk (the marker path).
 */
export function schema1Nodes(tasks = 3, framework = "hello-world"): Record<string, string | Uint8Array> {
  const nodes: Record<string, string | Uint8Array> = {
    SchemaVersion: "1",
    FrameworkID: "framework-0001",
    ConfigTarget: "config-b",
    "Configurations/config-a": JSON.stringify({ name: "hello-world", cpus: 0.1 }),
    "Configurations/config-b": JSON.stringify({ name: "hello-world", cpus: 0.2 }),
    "Properties/last-completed-update-type": "DEPLOY",
    "Properties/hello-0-server:task-status": BINARY,
    PlanOverrides: JSON.stringify({ deploy: { interrupted: true } }),
    PausedPods: JSON.stringify(["hello-0"]),
    ServiceContext: JSON.stringify({ name: framework, spec: `name: ${framework}`, parameters: {} }),
    "PlanEvents/00000000000000000001": JSON.stringify({ kind: "STARTED" }),
    SelectedServices: "hello-world",
  };
  for (let i = 0; i < tasks; i++) {
    const task = `Tasks/hello-${i}-server`;
    // An inner node with a value of its own: copied too.
    nodes[task] = `inner-${i}`;
    nodes[`${task}/TaskInfo`] = JSON.stringify({ name: `hello-${i}-server`, taskId: `hello-world__hello-${i}-server__uuid-${i}` });
    nodes[`${task}/TaskStatus`] = JSON.stringify({ state: "TASK_RUNNING", n: i });
    nodes[`${task}/Confirmed`] = "";
    nodes[`${task}/Metadata/goal-state-override`] = "PAUSED";
  }
  return nodes;
}

/** A store holding `nodes`. */
export async function storeWith(nodes: Readonly<Record<string, string | Uint8Array>>): Promise<TopRecorder> {
  const store = new TopRecorder();
  await store.multi(
    Object.entries(nodes).map(([path, v]): PersisterOp => ({ kind: "set", path, data: typeof v === "string" ? enc(v) : v })),
  );
  return store;
}

/** The schema-1 root names of the service (and where schema 2 keeps them, for `hello-world`). */
export const SERVICE_ROOTS = ["ConfigTarget", "Configurations", "Properties", "Tasks", "PlanOverrides", "PausedPods", "ServiceContext", "ServiceRemoval"];

/** What `nodes` (a schema-1 store) become after migrating `service` (escaped `escaped`) into `backup`. */
export function migratedNodes(nodes: Readonly<Record<string, string | Uint8Array>>, escaped: string, backup: string): Record<string, string | Uint8Array> {
  const out: Record<string, string | Uint8Array> = {};
  const backups: string[] = [];
  for (const [path, value] of Object.entries(nodes)) {
    const top = path.split("/")[0]!;
    if (!SERVICE_ROOTS.includes(top)) {
      out[path] = value;
      continue;
    }
    out[`${backup}/${path}`] = value;
    if (top === "ServiceContext") out[`ServiceList/${escaped}/Context`] = value;
    else if (top === "ServiceRemoval") out[`ServiceList/${escaped}/Removal`] = value;
    else out[`Services/${escaped}/${path}`] = value;
  }
  backups.push(backup);
  out.SchemaVersion = "2";
  out.Backups = JSON.stringify(backups);
  return out;
}
