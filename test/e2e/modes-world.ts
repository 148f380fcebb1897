/**
 * What the mode and migration e2e tests share: the framework (hello-world), its spec files
 * (test/fixtures/modes), the store under test (SQLite in the data directory, or a fresh root on
 * a real ZooKeeper) with a way to read it while no scheduler runs, and the scheduler's flags for
 * each mode.
 */
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { SqlitePersister } from "../../src/adapters/persister/sqlite-persister.js";
import { ZooKeeperPersister } from "../../src/adapters/persister/zookeeper/zookeeper-persister.js";
import { Status, createAdminClient } from "../../src/client/index.js";
import type { AdminClient, Task } from "../../src/client/index.js";
import type { Persister } from "../../src/engine/ports.js";
import { afterEach } from "vitest";
import { operatorCall } from "../local/agent-world.js";
import { killEverything, tempDataDir } from "../local/local-harness.js";
import { ROOT, killSchedulers } from "./scheduler-process.js";

/** The framework, and the mono service (named like it). */
export const FW = "hello-world";
export const FIXTURES = join(ROOT, "test/fixtures/modes");
export const HELLO_FILE = join(FIXTURES, "hello-world.yml");

/**
 * Every start passes `--framework-user nobody`: the tasks of a spec without a user are then
 * nobody's in dynamic and static mode but root's in mono mode (the reference's mono default),
 * so the tests see a migration that would change a task's user.
 */
export const FRAMEWORK_USER = ["--framework-user", "nobody"];

/**
 * Task id → the user the agent runs it as (GET_TASKS `user`: CommandInfo.user, else the
 * framework's, as Mesos decides), for the live tasks.
 */
export async function taskUsers(dataDir: string): Promise<Map<string, string>> {
  const answer = (await operatorCall(dataDir, "GET_TASKS"))["get_tasks"] as { tasks?: { task_id: { value: string }; user: string }[] };
  return new Map((answer.tasks ?? []).map((t) => [t.task_id.value, t.user]));
}

/** The store a scheduler runs on: its flags, and a reader of its root. */
export interface StoreUnderTest {
  readonly kind: "sqlite" | "zk";
  readonly args: readonly string[];
  /** Opens the scheduler's root; only while no scheduler runs on it. */
  open(): Promise<Persister>;
}

export function sqliteStore(dataDir: string): StoreUnderTest {
  return { kind: "sqlite", args: [], open: async () => SqlitePersister.open(join(dataDir, "corral.db")) };
}

let zkRoots = 0;

/** A fresh chroot on the ZooKeeper at `connect`; the scheduler's root is `<chroot>/dcos-service-<fw>`. */
export function zkStore(connect: string): StoreUnderTest {
  const store = `zk://${connect}/corral-modes-${process.pid}-${++zkRoots}`;
  return { kind: "zk", args: ["--store", store], open: () => ZooKeeperPersister.open(`${store}/dcos-service-${FW}`) };
}

/** What `read` finds in the store; the store is closed after. */
export async function readStore<T>(store: StoreUnderTest, read: (p: Persister) => Promise<T>): Promise<T> {
  const p = await store.open();
  try {
    return await read(p);
  } finally {
    await p.close();
  }
}

/** The SchemaVersion node's text, undefined when missing. */
export function schemaVersion(store: StoreUnderTest): Promise<string | undefined> {
  return readStore(store, async (p) => {
    const v = await p.get("SchemaVersion");
    return v === undefined ? undefined : new TextDecoder().decode(v.data);
  });
}

/** The hello-world fixture naming its service's user (`scheduler.user`). */
export function helloWithUser(user: string): string {
  return readFileSync(HELLO_FILE, "utf8").replace("\npods:", `\nscheduler:\n  user: ${user}\npods:`);
}

/** A directory in `dataDir` holding copies of the named fixture files (e.g. "hello-world.yml"). */
export function servicesDir(dataDir: string, files: readonly string[], name = "services"): string {
  const dir = join(dataDir, name);
  mkdirSync(dir, { recursive: true });
  for (const f of files) copyFileSync(join(FIXTURES, f), join(dir, f));
  return dir;
}

export function monoArgs(store: StoreUnderTest, params: readonly string[] = [], file = HELLO_FILE): string[] {
  return ["--framework-name", FW, ...FRAMEWORK_USER, ...store.args, "--mode", "mono", "--service", file, ...params.flatMap((p) => ["-p", p])];
}

/** `services`: a directory, or spec files. */
export function staticArgs(store: StoreUnderTest, services: string | readonly string[], params: readonly string[] = []): string[] {
  return ["--framework-name", FW, ...FRAMEWORK_USER, ...store.args, "--mode", "static", ...params.flatMap((p) => ["-p", p]), "--services", ...[services].flat()];
}

export function dynamicArgs(store: StoreUnderTest): string[] {
  return ["--framework-name", FW, ...FRAMEWORK_USER, ...store.args];
}

/** Admin clients, closed by closeClients() (call it in afterEach). */
const clients: AdminClient[] = [];

export function adminClient(address: string): AdminClient {
  const c = createAdminClient({ address, defaultDeadlineMs: 5000 });
  clients.push(c);
  return c;
}

export function closeClients(): void {
  for (const c of clients.splice(0)) c.close();
}

/** Polls `look` (every 100 ms) until it returns something other than undefined/false; fails after `timeoutMs`. */
export async function eventually<T>(what: string, look: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await look();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The service's tasks named `taskName` (e.g. "hello-0-server") as ListTasks shows them. */
export async function tasksNamed(c: AdminClient, service: string, taskName: string): Promise<Task[]> {
  return (await c.listTasks({ name: service })).tasks.filter((t) => t.name === taskName);
}

/**
 * The plan's task ids (sorted) once it is COMPLETE and `accept` takes them; a service not (yet)
 * there counts as not complete: a static start may serve before it has put its files' services.
 */
export async function completeTasks(c: AdminClient, service: string, plan = "deploy", accept: (ids: string[]) => boolean = () => true, timeoutMs = 45_000): Promise<string[]> {
  return eventually(`${plan} plan of ${service} complete`, async () => {
    const p = (await c.getPlan({ name: service, plan }).catch(() => ({ plan: undefined }))).plan;
    if (p?.status !== Status.COMPLETE) return undefined;
    const ids = p.phases.flatMap((ph) => ph.steps.flatMap((s) => s.taskIds)).sort();
    return accept(ids) && ids;
  }, timeoutMs);
}

/**
 * A fresh data directory per call, named after `prefix`; after each test the clients close, the
 * schedulers it started are killed, and each directory's agent and tasks go.
 */
export function dataDirsEachTest(prefix: string): () => string {
  const dirs: string[] = [];
  afterEach(async () => {
    closeClients();
    killSchedulers();
    for (const d of dirs.splice(0)) await killEverything(d);
  });
  return () => {
    const dir = tempDataDir(prefix);
    dirs.push(dir);
    return dir;
  };
}
