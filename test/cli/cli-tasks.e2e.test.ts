/**
 * `corral tasks` and `corral logs` (ListTasks, TaskLog) against the scripted MultiServiceAdmin,
 * and the typed client's listTasks/taskLog, so none of it waits for the server side.
 */
import type * as grpc from "@grpc/grpc-js";
import { status } from "@grpc/grpc-js";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TaskLogFile, createAdminClient } from "../../src/client/index.js";
import type { ListTasksRequest, TaskLogRequest } from "../../src/client/index.js";
import { startFakeAdmin } from "./fake-admin.js";
import type { FakeAdmin } from "./fake-admin.js";
import { runCli, shown } from "./run-cli.js";
import type { CliResult } from "./run-cli.js";

const TASKS = [
  { id: "hello__hello-0-server__6f1c", name: "hello-0-server", podType: "hello", podIndex: 0, state: "TASK_RUNNING", pid: 4242, agentId: "agent-1", sandbox: "/var/corral/sandboxes/hello__hello-0-server__6f1c", message: "", updatedTime: timestampFromMs(0) },
  { id: "hello__world-1-server__a2b3", name: "world-1-server", podType: "world", podIndex: 1, state: "TASK_FAILED", pid: 0, agentId: "agent-1", sandbox: "", message: "exit code 3" },
  { id: "hello__world-2-server__c4d5", name: "world-2-server", podType: "world", podIndex: 2, state: "", pid: 0, agentId: "", sandbox: "", message: "" },
];

/** Every TaskLog request the fake received, in order. */
const logRequests: TaskLogRequest[] = [];
let fake: FakeAdmin;
const cli = (args: readonly string[]): Promise<CliResult> => runCli(args, { server: fake.address });

beforeAll(async () => {
  fake = await startFakeAdmin({
    listTasks: (call: grpc.ServerUnaryCall<ListTasksRequest, object>, cb: grpc.sendUnaryData<object>) => {
      if (call.request.name === "nope") return cb({ code: status.NOT_FOUND, details: "service nope not found" });
      cb(null, { tasks: call.request.name === "empty" ? [] : TASKS });
    },
    taskLog: (call: grpc.ServerWritableStream<TaskLogRequest, object>) => {
      const r = call.request;
      logRequests.push(r);
      if (r.task === "gone") {
        call.emit("error", { code: status.NOT_FOUND, details: `task gone of ${r.name} not found` });
        return;
      }
      const text = r.file === TaskLogFile.STDERR ? "oops\n" : "hello\nworld\n";
      const bytes = Buffer.from(text);
      call.write({ data: bytes.subarray(0, 3), offset: 0n, taskId: TASKS[0]!.id });
      call.write({ data: bytes.subarray(3), offset: 3n, taskId: TASKS[0]!.id });
      if (r.follow) {
        call.write({ data: Buffer.from("more\n"), offset: BigInt(bytes.length), taskId: TASKS[0]!.id });
        return; // a follow stays open: Ctrl-C ends it
      }
      call.end();
    },
  });
});

afterAll(async () => {
  await fake?.stop();
});

describe("corral tasks", () => {
  it("prints one row per task: name, pod instance, state, pid, agent, sandbox, message; - when unknown", async () => {
    const r = await cli(["tasks", "hello"]);
    expect(r.code, shown(r)).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^TASK\s+POD\s+STATE\s+PID\s+AGENT\s+SANDBOX\s+MESSAGE$/);
    expect(lines[1]).toMatch(/^hello-0-server\s+hello-0\s+TASK_RUNNING\s+4242\s+agent-1\s+\/var\/corral\/sandboxes\/hello__hello-0-server__6f1c$/);
    expect(lines[2]).toMatch(/^world-1-server\s+world-1\s+TASK_FAILED\s+-\s+agent-1\s+-\s+exit code 3$/);
    expect(lines[3]).toMatch(/^world-2-server\s+world-2\s+-\s+-\s+-\s+-$/);
    const empty = await cli(["tasks", "empty"]);
    expect(empty.stdout).toBe("no tasks\n");
  });

  it("--json prints the proto3 JSON of the response; an unknown service exits 3", async () => {
    const r = await cli(["tasks", "hello", "--json"]);
    expect(r.code, shown(r)).toBe(0);
    const body = JSON.parse(r.stdout) as { tasks: Record<string, unknown>[] };
    expect(body.tasks[0]).toMatchObject({ name: "hello-0-server", podType: "hello", podIndex: 0, pid: 4242, state: "TASK_RUNNING" });
    const missing = await cli(["tasks", "nope"]);
    expect(missing.code, shown(missing)).toBe(3);
    expect(missing.stderr).toBe("corral: service nope not found (NOT_FOUND)\n");
  });
});

describe("corral logs", () => {
  it("prints the task's stdout bytes as they come; --stderr and --tail go into the request", async () => {
    logRequests.length = 0;
    const out = await cli(["logs", "hello", "hello-0-server"]);
    expect(out.code, shown(out)).toBe(0);
    expect(out.stdout).toBe("hello\nworld\n");
    const err = await cli(["logs", "hello", "hello-0-server", "--stderr", "--tail", "20"]);
    expect(err.code, shown(err)).toBe(0);
    expect(err.stdout).toBe("oops\n");
    expect(logRequests.map((r) => [r.name, r.task, r.file, r.tailLines, r.follow])).toEqual([
      ["hello", "hello-0-server", TaskLogFile.STDOUT, 0, false],
      ["hello", "hello-0-server", TaskLogFile.STDERR, 20, false],
    ]);
  });

  it("-f follows until Ctrl-C, which ends it with exit 130 and nothing on stderr", async () => {
    const r = await runCli(["logs", "hello", "hello-0-server", "-f"], {
      server: fake.address,
      onStdout: (out, child) => {
        if (out.endsWith("more\n")) child.kill("SIGINT");
      },
    });
    expect(r.code, shown(r)).toBe(130);
    expect(r.stdout).toBe("hello\nworld\nmore\n");
    expect(r.stderr).toBe("");
    expect(logRequests.at(-1)?.follow).toBe(true);
  });

  it("a bad --tail exits 2 before calling; an unknown task exits 3", async () => {
    const bad = await cli(["logs", "hello", "hello-0-server", "--tail", "0"]);
    expect(bad.code, shown(bad)).toBe(2);
    expect(bad.stderr).toMatch(/^corral: option '--tail <lines>' argument '0' is invalid\. must be a positive integer/);
    const gone = await cli(["logs", "hello", "gone"]);
    expect(gone.code, shown(gone)).toBe(3);
    expect(gone.stderr).toBe("corral: task gone of hello not found (NOT_FOUND)\n");
  });

  it("a scheduler without the RPCs yet answers UNIMPLEMENTED, said in one line", async () => {
    const bare = await startFakeAdmin({});
    try {
      const r = await runCli(["tasks", "hello"], { server: bare.address });
      expect(r.code, shown(r)).toBe(1);
      expect(r.stderr).toMatch(/^corral: the scheduler at 127\.0\.0\.1:\d+ does not implement ListTasks yet \(UNIMPLEMENTED/);
    } finally {
      await bare.stop();
    }
  });
});

describe("the typed client", () => {
  it("has listTasks (a promise) and taskLog (an async iterable of chunks)", async () => {
    const admin = createAdminClient({ address: fake.address, defaultDeadlineMs: 5000 });
    try {
      const { tasks } = await admin.listTasks({ name: "hello" });
      expect(tasks.map((t) => [t.name, t.pid])).toEqual([["hello-0-server", 4242], ["world-1-server", 0], ["world-2-server", 0]]);
      const chunks: string[] = [];
      for await (const { data, offset } of admin.taskLog({ name: "hello", task: "hello-0-server" })) chunks.push(`${offset}:${Buffer.from(data).toString()}`);
      expect(chunks).toEqual(["0:hel", "3:lo\nworld\n"]);
    } finally {
      admin.close();
    }
  });
});
