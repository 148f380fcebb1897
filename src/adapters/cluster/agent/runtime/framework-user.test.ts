/**
 * Whom a task runs as, with real processes: its command's user, else its framework's (as on
 * Mesos), when the agent may switch users (it runs as root); the agent's own user otherwise.
 * The same user fetches its URIs, owns its sandbox, and runs its checks after an adoption.
 */
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../../../../test/use-temp-dir.js";
import { setup, simTask, until } from "./runtime-test-kit.js";

const isRoot = process.getuid?.() === 0;
/** Whom a task that may switch to `user` runs as here. */
const expected = (user: string): string => (isRoot ? user : userInfo().username);
const NOBODY_UID = 65534;

describe("the task's user: its command's, else its framework's", () => {
  it("runs a task whose command names no user as the framework's user, and one that names root as root", async () => {
    // The root stays 0700: the task finds its sandbox files relative to its working directory.
    const { runtime, states, root } = setup({ canSwitchUser: isRoot, frameworkUser: () => "nobody" });
    const plain = simTask("id -un");
    const asRoot = simTask("id -un", { command: { value: "id -un", environment: {}, user: "root" } });
    runtime.start(plain);
    runtime.start(asRoot);
    runtime.startQueued();
    await until("both FINISHED", () => states(plain.info.taskId).length === 2 && states(asRoot.info.taskId).length === 2);
    expect(states(plain.info.taskId)).toEqual(["TASK_RUNNING", "TASK_FINISHED"]);
    expect(states(asRoot.info.taskId)).toEqual(["TASK_RUNNING", "TASK_FINISHED"]);
    const sandbox = (t: typeof plain): string => join(root, "sandboxes", t.info.taskId);
    expect(readFileSync(join(sandbox(plain), "stdout"), "utf8")).toBe(`${expected("nobody")}\n`);
    expect(readFileSync(join(sandbox(asRoot), "stdout"), "utf8")).toBe(`${expected("root")}\n`);
    expect(statSync(sandbox(plain)).uid).toBe(isRoot ? NOBODY_UID : process.getuid?.());
  });

  it("fails a task whose framework's user does not exist here, as one whose own user does not", () => {
    const { runtime, reports } = setup({ canSwitchUser: true, frameworkUser: () => "no-such-user-here" });
    const task = simTask("true");
    runtime.start(task);
    runtime.startQueued();
    expect(reports).toEqual([
      { taskId: task.info.taskId, state: "TASK_FAILED", extra: { reason: "REASON_COMMAND_EXECUTOR_FAILED", message: "the framework's user 'no-such-user-here' does not exist on this machine" } },
    ]);
  });

  it("runs every task as the agent's own user when it may not switch users", async () => {
    const { runtime, states, root } = setup({ canSwitchUser: false, frameworkUser: () => "no-such-user-here" });
    const task = simTask("id -un");
    runtime.start(task);
    runtime.startQueued();
    await until("FINISHED", () => states(task.info.taskId).length === 2);
    expect(states(task.info.taskId)).toEqual(["TASK_RUNNING", "TASK_FINISHED"]);
    expect(readFileSync(join(root, "sandboxes", task.info.taskId, "stdout"), "utf8")).toBe(`${userInfo().username}\n`);
  });

  it("fetches a task's URIs as the framework's user", async () => {
    const files = tempDir("agent-rt-files");
    chmodSync(files, 0o755); // the framework's user may read what it fetches
    writeFileSync(join(files, "data.txt"), "data\n", { mode: 0o644 });
    const { runtime, states, root } = setup({ canSwitchUser: isRoot, frameworkUser: () => "nobody" });
    const task = simTask("cat data.txt", { command: { value: "cat data.txt", environment: {}, uris: [{ value: join(files, "data.txt") }] } });
    runtime.start(task);
    runtime.startQueued();
    await until("FINISHED", () => states(task.info.taskId).length === 2);
    expect(states(task.info.taskId)).toEqual(["TASK_RUNNING", "TASK_FINISHED"]);
    expect(statSync(join(root, "sandboxes", task.info.taskId, "data.txt")).uid).toBe(isRoot ? NOBODY_UID : process.getuid?.());
  });

  it("runs an adopted task's health check as the framework's user after a restart, and learns its exit status", async () => {
    const over = { canSwitchUser: isRoot, frameworkUser: () => "nobody" };
    const first = setup(over);
    chmodSync(first.root, 0o700); // the framework's user cannot pass it: the wrapper writes its exit file all the same
    const healthCheck = { command: "id -un > checked", intervalS: 1, timeoutS: 5, delayS: 0, gracePeriodS: 0, consecutiveFailures: 3 };
    const task = simTask("while [ ! -f go ]; do sleep 0.02; done; exit 7", { healthCheck });
    first.runtime.start(task);
    first.runtime.startQueued();
    const pid = first.runtime.processes()[0]!.taskPid!;
    first.runtime.close();
    // The process runs as the framework's user.
    const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    expect(Number(uid)).toBe(isRoot ? NOBODY_UID : process.getuid?.());

    const second = setup(over, first.root);
    task.state = "TASK_RUNNING";
    second.runtime.adopt(task);
    second.runtime.startQueued();
    const checked = join(first.root, "sandboxes", task.info.taskId, "checked");
    await until("the adopted task's health check", () => {
      second.clock.advance(1000);
      return existsSync(checked) && readFileSync(checked, "utf8") !== "";
    });
    expect(readFileSync(checked, "utf8")).toBe(`${expected("nobody")}\n`);
    expect(second.runtime.processes()).toEqual([{ taskId: task.info.taskId, taskPid: pid }]);
    writeFileSync(join(first.root, "sandboxes", task.info.taskId, "go"), "");
    await until("the adopted task's end", () => {
      second.clock.advance(20); // the shared poll
      return second.states(task.info.taskId).includes("TASK_FAILED");
    });
    expect(second.reports.at(-1)?.extra).toEqual({ reason: "REASON_COMMAND_EXECUTOR_FAILED", message: "command exited with status 7" });
  });
});
