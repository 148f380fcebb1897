/**
 * ListTasks and TaskLog over a real grpc-js server on 127.0.0.1:0, in front of the real
 * scheduler (simulated cluster, fake clock, in-memory task files): the message mapping, exact
 * status codes with the field named, and a follow stream that ends with OK or on cancel.
 */
import * as grpc from "@grpc/grpc-js";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MultiServiceAdmin, TaskLogFile } from "../gen/corral/v1/admin_pb.js";
import type { ListTasksResponse, TaskLogResponse } from "../gen/corral/v1/admin_pb.js";
import { SimulatedCluster } from "../src/adapters/cluster/simulated-cluster.js";
import { FakeClock, SeededRandom } from "../src/adapters/fake-clock.js";
import { AdminServer } from "../src/adapters/grpc/server.js";
import { toGrpcServiceDefinition } from "../src/adapters/grpc/service-definition.js";
import { TASK_LOG_POLL_MS } from "../src/engine/task-log.js";
import { MemoryTaskFiles, withTaskFiles } from "./engine/memory-task-files.js";
import { createHarness } from "./harness/harness.js";
import type { Harness } from "./harness/harness.js";

type Client = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

let h: Harness;
let files: MemoryTaskFiles;
let server: AdminServer;
let client: Client;
let taskId: string;

beforeAll(async () => {
  const clock = new FakeClock();
  const cluster = new SimulatedCluster({ agents: 1, clock, random: new SeededRandom(99) });
  files = new MemoryTaskFiles();
  h = await createHarness({ clock, cluster, deps: { driver: withTaskFiles(cluster, files) } });
  await h.put("simple", "simple.yml");
  await h.deployAll(["simple"]);
  taskId = h.cluster.tasks()[0]!.taskId;
  files.write(taskId, "stdout", "hello\n");
  server = new AdminServer({ api: h.scheduler, logger: pino({ level: "silent" }) });
  const { port } = await server.listen("127.0.0.1:0");
  const Ctor = grpc.makeGenericClientConstructor(toGrpcServiceDefinition(MultiServiceAdmin), "MultiServiceAdmin");
  client = new Ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as Client;
});

afterAll(async () => {
  client.close();
  await server.stop(1000);
  await h.scheduler.stop();
});

function listTasks(name: string): Promise<ListTasksResponse> {
  return new Promise((resolve, reject) => {
    client["listTasks"]!({ name }, (err: grpc.ServiceError | null, res: ListTasksResponse) => (err ? reject(err) : resolve(res)));
  });
}

interface StreamResult {
  readonly messages: TaskLogResponse[];
  readonly status: grpc.StatusObject;
}

/** Opens a TaskLog stream; `done` resolves with its messages and final status. */
function taskLog(req: Record<string, unknown>): { call: grpc.ClientReadableStream<TaskLogResponse>; messages: TaskLogResponse[]; done: Promise<StreamResult> } {
  const call = client["taskLog"]!(req) as grpc.ClientReadableStream<TaskLogResponse>;
  const messages: TaskLogResponse[] = [];
  call.on("data", (m: TaskLogResponse) => messages.push(m));
  call.on("error", () => undefined); // the status below says it
  const done = new Promise<StreamResult>((resolve) => call.on("status", (status: grpc.StatusObject) => resolve({ messages, status })));
  return { call, messages, done };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
}

describe("ListTasks over gRPC", () => {
  it("answers each task with its fields and update time", async () => {
    const res = await listTasks("simple");
    expect(res.tasks).toHaveLength(1);
    const [t] = res.tasks;
    expect(t).toMatchObject({ id: taskId, name: "hello-0-server", podType: "hello", podIndex: 0, state: "TASK_RUNNING", pid: 1000, sandbox: `/sandboxes/${taskId}` });
    expect(t!.updatedTime).toBeDefined();
  });

  it("answers INVALID_ARGUMENT with the field in corral-violations, and NOT_FOUND for an unknown service", async () => {
    const bad = await listTasks("../etc").catch((e: grpc.ServiceError) => e);
    expect(bad).toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
    expect(String((bad as grpc.ServiceError).metadata.get("corral-violations")[0])).toContain('"field":"name"');
    expect(await listTasks("nope").catch((e: grpc.ServiceError) => e.code)).toBe(grpc.status.NOT_FOUND);
  });
});

describe("TaskLog over gRPC", () => {
  it("streams the file with the task ID and offsets, then OK", async () => {
    const { done } = taskLog({ name: "simple", task: "hello-0-server" });
    const { messages, status } = await done;
    expect(status.code).toBe(grpc.status.OK);
    expect(messages.map((m) => [Buffer.from(m.data).toString(), m.offset, m.taskId])).toEqual([["hello\n", 0n, taskId]]);
  });

  it.each([
    ["a traversal", { name: "simple", task: "../../etc/passwd" }, grpc.status.INVALID_ARGUMENT, "task"],
    ["an absolute path", { name: "simple", task: "/etc/passwd" }, grpc.status.INVALID_ARGUMENT, "task"],
    ["a 512 KiB task", { name: "simple", task: "x".repeat(1 << 19) }, grpc.status.INVALID_ARGUMENT, "task"],
    ["an unknown file value", { name: "simple", task: "hello-0-server", file: 7 }, grpc.status.INVALID_ARGUMENT, "file"],
    ["no name", { name: "", task: "hello-0-server" }, grpc.status.INVALID_ARGUMENT, "name"],
    ["an unknown task", { name: "simple", task: "nope-0-server" }, grpc.status.NOT_FOUND, undefined],
    ["an unknown service", { name: "other", task: "hello-0-server" }, grpc.status.NOT_FOUND, undefined],
  ])("%s → status %i", async (_, req, code, field) => {
    const { messages, status } = await taskLog(req).done;
    expect(status.code).toBe(code);
    expect(messages).toEqual([]);
    if (field !== undefined) expect(String(status.metadata.get("corral-violations")[0])).toContain(`"field":"${field}"`);
    expect(status.details.length).toBeLessThan(1024);
  });

  it("follows the file: appended bytes arrive, and the stream ends with OK when the sandbox is removed", async () => {
    const { messages, done } = taskLog({ name: "simple", task: taskId, file: TaskLogFile.STDOUT, tailLines: 1, follow: true });
    await until(() => messages.length === 1);
    files.write(taskId, "stdout", "more\n");
    await h.advance(TASK_LOG_POLL_MS);
    await until(() => messages.length === 2);
    expect(messages[1]).toMatchObject({ offset: 6n, taskId });
    expect(Buffer.from(messages[1]!.data).toString()).toBe("more\n");
    files.remove(taskId);
    await h.advance(TASK_LOG_POLL_MS);
    expect((await done).status.code).toBe(grpc.status.OK);
    files.write(taskId, "stdout", "hello\nmore\n");
  });

  it("a cancelled follow stream stops polling", async () => {
    const { call, messages, done } = taskLog({ name: "simple", task: "hello-0-server", follow: true });
    await until(() => messages.length === 1);
    await h.advance(TASK_LOG_POLL_MS);
    call.cancel();
    expect((await done).status.code).toBe(grpc.status.CANCELLED);
    await new Promise((r) => setTimeout(r, 50)); // the server hears of the cancel
    await h.advance(TASK_LOG_POLL_MS);
    const asked = files.asked.length;
    await h.advance(TASK_LOG_POLL_MS * 4);
    expect(files.asked.length).toBe(asked);
  });
});
