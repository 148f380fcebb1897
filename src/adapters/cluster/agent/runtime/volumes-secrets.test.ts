/**
 * Container volumes and secrets of real task processes: a host volume linked into the sandbox,
 * a pod volume (the executor's persistent volume) shared by two tasks of one executor, secret
 * environment variables and files from the agent's secret store, whose values reach the task
 * and nothing else (no log line, no status message, no other sandbox file).
 */
import { lstatSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ExecutorInfo, TaskInfo } from "../../../../domain/cluster.js";
import type { Logger } from "../../../../engine/ports.js";
import { tempDir } from "../../../../../test/use-temp-dir.js";
import { SecretFiles } from "../../../secrets/secret-files.js";
import { setup, simTask, until } from "./runtime-test-kit.js";
import { volumeDir } from "./sandbox.js";

/** A logger that keeps every line it is given, bindings and all, as text. */
function capturingLogger(lines: string[], bindings: Record<string, unknown> = {}): Logger {
  const at = (level: string) => (obj: object, msg?: string) => {
    lines.push(`${level} ${JSON.stringify({ ...bindings, ...obj }, (_k, v: unknown) => (v instanceof Error ? { ...v, message: v.message, stack: v.stack } : v))} ${msg ?? ""}`);
  };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error"), child: (b) => capturingLogger(lines, { ...bindings, ...b }) };
}

/** Every regular file under `dir`, symlinks not followed. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    const st = lstatSync(path);
    if (st.isDirectory()) return filesUnder(path);
    return st.isFile() ? [path] : [];
  });
}

const podVolume = (containerPath: string): NonNullable<TaskInfo["container"]> => ({
  type: "MESOS",
  volumes: [{ containerPath, mode: "RW", source: { type: "SANDBOX_PATH", sandboxPath: { type: "PARENT", path: containerPath } } }],
});

describe("container volumes", () => {
  it("links a host path at its container path in the sandbox", async () => {
    const host = tempDir("agent-rt-host");
    writeFileSync(join(host, "shared.txt"), "from the host\n");
    const { runtime, states, root } = setup();
    const task = simTask("cat etc/host/shared.txt > seen", {
      container: { type: "MESOS", volumes: [{ containerPath: "etc/host", mode: "RO", source: { type: "HOST_PATH", hostPath: { path: host } } }] },
    });
    runtime.start(task);
    runtime.startQueued();
    await until("FINISHED", () => states(task.info.taskId).length === 2);
    const sandbox = join(root, "sandboxes", task.info.taskId);
    expect(readlinkSync(join(sandbox, "etc", "host"))).toBe(host);
    expect(readFileSync(join(sandbox, "seen"), "utf8")).toBe("from the host\n");
  });

  it("shares a pod volume (the executor's persistent volume) between two tasks of one executor", async () => {
    const { runtime, states, root } = setup();
    const executor: ExecutorInfo = {
      executorId: "pod-0-executor",
      frameworkId: "fw-1",
      labels: {},
      resources: [{ name: "disk", type: "SCALAR", scalar: 10, disk: { persistence: { id: "pv-1" }, volume: { containerPath: "pod-data", mode: "RW" } } }],
    };
    const writer = simTask("echo written > pod-data/note", { container: podVolume("pod-data") }, executor);
    runtime.start(writer);
    runtime.startQueued();
    await until("the writer's end", () => states(writer.info.taskId).length === 2);
    const reader = simTask("cat pod-data/note > seen", { container: podVolume("pod-data") }, executor);
    runtime.start(reader);
    runtime.startQueued();
    await until("the reader's end", () => states(reader.info.taskId).length === 2);
    expect(states(reader.info.taskId)).toEqual(["TASK_RUNNING", "TASK_FINISHED"]);
    expect(readFileSync(join(root, "sandboxes", reader.info.taskId, "seen"), "utf8")).toBe("written\n");
    expect(readFileSync(join(volumeDir(root, "agent-1", "pv-1"), "note"), "utf8")).toBe("written\n");
  });

  it("fails a task whose pod volume is not one of its executor's", () => {
    const { runtime, reports } = setup();
    const task = simTask("true", { container: podVolume("nowhere") });
    runtime.start(task);
    runtime.startQueued();
    expect(reports).toEqual([
      {
        taskId: task.info.taskId,
        state: "TASK_FAILED",
        extra: { reason: "REASON_CONTAINER_LAUNCH_FAILED", message: "sandbox: pod volume 'nowhere' is not a persistent volume of the task's executor" },
      },
    ]);
  });
});

describe("secrets", () => {
  it("gives the task its secret environment and secret file, and writes the values nowhere else", async () => {
    const secretsDir = tempDir("agent-rt-secrets");
    const store = new SecretFiles(secretsDir);
    const value = "s3cr3t-value-4711";
    await store.put("db/password", new TextEncoder().encode(value));
    await store.put("tls-key", new TextEncoder().encode("key-material-0815"));
    const lines: string[] = [];
    const { runtime, reports, states, root } = setup({ secretsDir, log: capturingLogger(lines) });
    const command = 'printf %s "$DB_PASSWORD" > env-seen; cat conf/key > file-seen; echo "$DB_PASSWORD" >&2; exit 2';
    const task = simTask(command, {
      command: { value: command, environment: { PLAIN: "x" }, secretEnvironment: { DB_PASSWORD: { name: "db/password" } } },
      container: { type: "MESOS", volumes: [{ containerPath: "conf/key", mode: "RO", source: { type: "SECRET", secret: { name: "tls-key" } } }] },
      healthCheck: { command: "true", intervalS: 1, timeoutS: 5, delayS: 0, gracePeriodS: 0, consecutiveFailures: 3 },
    });
    runtime.start(task);
    runtime.startQueued();
    await until("FAILED", () => states(task.info.taskId).length === 2);
    const sandbox = join(root, "sandboxes", task.info.taskId);
    expect(readFileSync(join(sandbox, "env-seen"), "utf8")).toBe(value);
    expect(readFileSync(join(sandbox, "file-seen"), "utf8")).toBe("key-material-0815");
    expect(statSync(join(sandbox, "conf", "key")).mode & 0o777).toBe(0o400);
    // What the agent writes or says: the task's own files (and stderr, where it echoed it) aside, no value.
    const own = new Set(["env-seen", "file-seen", "stderr", join("conf", "key")].map((f) => join(sandbox, f)));
    for (const file of filesUnder(sandbox).filter((f) => !own.has(f))) expect(readFileSync(file, "utf8"), file).not.toContain(value);
    expect(JSON.stringify(reports)).not.toContain(value);
    expect(lines.join("\n")).not.toContain(value);
    expect(JSON.stringify(task.info)).not.toContain(value);
  });

  it("fails a task whose secret is not in the store, naming the secret", () => {
    const secretsDir = tempDir("agent-rt-secrets");
    const { runtime, reports } = setup({ secretsDir });
    const envTask = simTask("true", { command: { value: "true", environment: {}, secretEnvironment: { X: { name: "absent" } } } });
    const fileTask = simTask("true", {
      container: { type: "MESOS", volumes: [{ containerPath: "f", mode: "RO", source: { type: "SECRET", secret: { name: "gone" } } }] },
    });
    const noStore = setup();
    const noStoreTask = simTask("true", { command: { value: "true", environment: {}, secretEnvironment: { X: { name: "absent" } } } });
    runtime.start(envTask);
    runtime.start(fileTask);
    runtime.startQueued();
    noStore.runtime.start(noStoreTask);
    noStore.runtime.startQueued();
    const failed = (message: string) => ({ state: "TASK_FAILED", extra: { reason: "REASON_CONTAINER_LAUNCH_FAILED", message } });
    expect(reports).toEqual([
      { taskId: envTask.info.taskId, ...failed("secret 'absent' is not in the agent's secret store") },
      { taskId: fileTask.info.taskId, ...failed("secret 'gone' is not in the agent's secret store") },
    ]);
    expect(noStore.reports).toEqual([{ taskId: noStoreTask.info.taskId, ...failed("secret 'absent' is not in the agent's secret store") }]);
  });
});
