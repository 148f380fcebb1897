/**
 * URIs fetched into the sandbox before the task's command runs (real processes, a real local
 * HTTP server): file:// and http:// copies, redirects, archives unpacked, executables, failures
 * that fail the task without running it, kills during a fetch, and an agent restarted mid-fetch.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../../../../../test/use-temp-dir.js";
import { killGroups, setup, simTask, until } from "./runtime-test-kit.js";

const files = tempDir("agent-rt-uris");
let server: Server;
let base = "";
/** Requests for /slow are held here until the test lets them go. */
const held: (() => void)[] = [];

beforeAll(async () => {
  writeFileSync(join(files, "hello.txt"), "hello from a file\n");
  mkdirSync(join(files, "bundle", "bin"), { recursive: true });
  writeFileSync(join(files, "bundle", "bin", "tool"), "#!/bin/sh\necho tool ran\n", { mode: 0o755 });
  writeFileSync(join(files, "bundle", "README"), "read me\n");
  execFileSync("tar", ["-czf", join(files, "bundle.tar.gz"), "-C", join(files, "bundle"), "."]);
  execFileSync("sh", ["-c", `printf 'zipped line\\n' | gzip > ${join(files, "note.txt.gz")}`]);
  writeFileSync(join(files, "run.sh"), "echo script ran\n");
  server = createServer((req, res) => {
    const url = req.url ?? "/";
    if (url === "/moved") {
      res.writeHead(302, { Location: "/hello.txt" }).end();
      return;
    }
    if (url === "/slow") {
      held.push(() => res.end("late\n"));
      return;
    }
    const path = join(files, url.slice(1));
    if (url.includes("..") || !existsSync(path) || statSync(path).isDirectory()) {
      res.writeHead(404).end("no");
      return;
    }
    res.end(readFileSync(path));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const release of held.splice(0)) release();
  await new Promise((resolve) => server.close(resolve));
});

describe("URIs fetched into the sandbox", () => {
  it("copies a file:// and an absolute path, downloads http:// (after a redirect), all before the command runs", async () => {
    const { runtime, states, root } = setup();
    const task = simTask("cat copied.txt hello.txt got.txt > seen", {
      command: {
        value: "cat copied.txt hello.txt got.txt > seen",
        environment: {},
        uris: [
          { value: `file://${join(files, "hello.txt")}`, outputFile: "copied.txt" },
          { value: join(files, "hello.txt") },
          { value: `${base}/moved`, outputFile: "got.txt" },
        ],
      },
    });
    runtime.start(task);
    runtime.startQueued();
    expect(states(task.info.taskId)).toEqual([]); // fetching: nothing started yet
    await until("FINISHED", () => states(task.info.taskId).length === 2);
    expect(states(task.info.taskId)).toEqual(["TASK_RUNNING", "TASK_FINISHED"]);
    const seen = readFileSync(join(root, "sandboxes", task.info.taskId, "seen"), "utf8");
    expect(seen).toBe("hello from a file\n".repeat(3));
  });

  it("unpacks a tar.gz and a .gz, keeps the archive, and makes an executable URI executable without unpacking it", async () => {
    const { runtime, states, root } = setup();
    const command = "./bin/tool > out; cat README note.txt >> out; ./run.sh >> out; test -f bundle.tar.gz";
    const task = simTask(command, {
      command: {
        value: command,
        environment: {},
        uris: [{ value: `${base}/bundle.tar.gz` }, { value: `${base}/note.txt.gz` }, { value: `${base}/run.sh`, executable: true }],
      },
    });
    runtime.start(task);
    runtime.startQueued();
    await until("FINISHED", () => states(task.info.taskId).length === 2);
    expect(states(task.info.taskId)).toEqual(["TASK_RUNNING", "TASK_FINISHED"]);
    const sandbox = join(root, "sandboxes", task.info.taskId);
    expect(readFileSync(join(sandbox, "out"), "utf8")).toBe("tool ran\nread me\nzipped line\nscript ran\n");
    expect(statSync(join(sandbox, "run.sh")).mode & 0o777).toBe(0o755);
    // Nothing of the staging is left behind.
    expect(execFileSync("ls", ["-A", sandbox], { encoding: "utf8" }).split("\n").filter((n) => n.startsWith(".corral"))).toEqual([]);
  });

  it("fails the task with the URI and why when a fetch fails (404, missing file), and never runs its command", async () => {
    const { runtime, reports, states, root } = setup();
    const missing = simTask("touch ran", { command: { value: "touch ran", environment: {}, uris: [{ value: `${base}/nothing-here.tgz` }] } });
    const noFile = simTask("touch ran", { command: { value: "touch ran", environment: {}, uris: [{ value: "file:///no/such/file" }] } });
    runtime.start(missing);
    runtime.start(noFile);
    runtime.startQueued();
    await until("both FAILED", () => states(missing.info.taskId).length === 1 && states(noFile.info.taskId).length === 1);
    expect(reports.find((r) => r.taskId === missing.info.taskId)).toEqual({
      taskId: missing.info.taskId,
      state: "TASK_FAILED",
      extra: { reason: "REASON_CONTAINER_LAUNCH_FAILED", message: `Failed to fetch '${base}/nothing-here.tgz': 404 Not Found` },
    });
    expect(reports.find((r) => r.taskId === noFile.info.taskId)).toMatchObject({
      state: "TASK_FAILED",
      extra: { reason: "REASON_CONTAINER_LAUNCH_FAILED", message: "Failed to fetch 'file:///no/such/file': /no/such/file: No such file or directory" },
    });
    for (const t of [missing, noFile]) expect(existsSync(join(root, "sandboxes", t.info.taskId, "ran"))).toBe(false);
    expect(runtime.processes()).toEqual([]);
  });

  it("ends a task killed during its fetch as KILLED without starting it", async () => {
    const { runtime, reports, states, root } = setup();
    const task = simTask("touch ran; sleep 1000", { command: { value: "touch ran; sleep 1000", environment: {}, uris: [{ value: `${base}/slow` }] } });
    runtime.start(task);
    runtime.startQueued();
    await until("the request", () => held.length === 1);
    runtime.kill(task);
    expect(reports).toEqual([{ taskId: task.info.taskId, state: "TASK_KILLED", extra: { reason: "REASON_TASK_KILLED_DURING_LAUNCH" } }]);
    held.shift()!();
    // Whatever the fetch does now, the task does not start.
    const other = simTask("true");
    runtime.start(other);
    runtime.startQueued();
    await until("the other task", () => states(other.info.taskId).length === 2);
    expect(states(task.info.taskId)).toEqual(["TASK_KILLED"]);
    expect(existsSync(join(root, "sandboxes", task.info.taskId, "ran"))).toBe(false);
    expect(existsSync(join(root, "sandboxes", task.info.taskId, "task.json"))).toBe(false);
  });

  it("fetches again and starts a task whose fetch an agent stopped (restart mid-fetch: the task is not left STAGING)", async () => {
    const root = tempDir("agent-rt", { beforeRemove: killGroups });
    const first = setup({}, root);
    const command = "cat slow > seen";
    const task = simTask(command, { command: { value: command, environment: {}, uris: [{ value: `${base}/slow` }] } });
    first.runtime.start(task);
    first.runtime.startQueued();
    await until("the request", () => held.length === 1);
    first.runtime.close(); // the agent goes, the download with it
    held.shift()!();

    const second = setup({}, root);
    second.runtime.adopt(task); // no task.json: never started
    second.runtime.startQueued();
    await until("the second request", () => held.length === 1);
    held.shift()!();
    await until("FINISHED", () => second.states(task.info.taskId).length === 2);
    expect(second.states(task.info.taskId)).toEqual(["TASK_RUNNING", "TASK_FINISHED"]);
    expect(first.states(task.info.taskId)).toEqual([]);
    expect(readFileSync(join(root, "sandboxes", task.info.taskId, "seen"), "utf8")).toBe("late\n");
  });

  it("keeps an archive from replacing the agent's own sandbox files or writing outside the sandbox", async () => {
    const evil = join(files, "evil");
    mkdirSync(join(evil, "inner"), { recursive: true });
    writeFileSync(join(evil, "exit"), "0");
    writeFileSync(join(evil, "task.json"), "{}");
    writeFileSync(join(evil, "data"), "ok\n");
    writeFileSync(join(evil, "escaped"), "out of the sandbox\n");
    execFileSync("tar", ["-cf", join(files, "evil.tar"), "-C", evil, "exit", "task.json", "data"]);
    // A member named ../escaped (kept as such by -P) would land next to the sandbox.
    execFileSync("tar", ["-cPf", join(files, "escape.tar"), "-C", join(evil, "inner"), "../escaped"]);
    const { runtime, reports, states, root } = setup();
    const command = "test ! -e exit || exit 9; cat data; exit 4";
    const task = simTask(command, { command: { value: command, environment: {}, uris: [{ value: `${base}/evil.tar` }] } });
    const escape = simTask("true", { command: { value: "true", environment: {}, uris: [{ value: `${base}/escape.tar` }] } });
    runtime.start(task);
    runtime.start(escape);
    runtime.startQueued();
    await until("both ended", () => states(task.info.taskId).length === 2 && states(escape.info.taskId).length === 1);
    // The archive's exit file was dropped: the command did not find one.
    expect(reports.find((r) => r.taskId === task.info.taskId && r.state === "TASK_FAILED")?.extra).toMatchObject({ message: "command exited with status 4" });
    expect(reports.find((r) => r.taskId === escape.info.taskId)).toMatchObject({
      state: "TASK_FAILED",
      extra: { reason: "REASON_CONTAINER_LAUNCH_FAILED", message: expect.stringContaining(`Failed to fetch '${base}/escape.tar': extracting it: tar failed`) },
    });
    expect(existsSync(join(root, "sandboxes", "escaped"))).toBe(false);
    expect(existsSync(join(root, "sandboxes", escape.info.taskId, "escaped"))).toBe(false);
  });
  it("fetches and unpacks as the task's user: its files are the user's, and a file that user may not read is not fetched", async () => {
    const root = tempDir("agent-rt", { beforeRemove: killGroups });
    chmodSync(root, 0o755); // the task's user must reach its sandbox
    const { runtime, reports, states } = setup({ canSwitchUser: true }, root);
    const nobody = { value: "ls -n bin/tool README | awk '{print $3}' > owners", environment: {}, user: "nobody" };
    const task = simTask(nobody.value, { command: { ...nobody, uris: [{ value: `${base}/bundle.tar.gz` }] } });
    // The test's files directory is 0700 root: nobody cannot read what is in it.
    const secret = simTask("true", { command: { value: "true", environment: {}, user: "nobody", uris: [{ value: join(files, "hello.txt") }] } });
    runtime.start(task);
    runtime.start(secret);
    runtime.startQueued();
    if (process.getuid?.() !== 0) {
      // Not root: no task may run as another user.
      await until("both FAILED", () => states(task.info.taskId).length === 1 && states(secret.info.taskId).length === 1);
      return;
    }
    await until("both ended", () => states(task.info.taskId).length === 2 && states(secret.info.taskId).length === 1);
    expect(states(task.info.taskId)).toEqual(["TASK_RUNNING", "TASK_FINISHED"]);
    const sandbox = join(root, "sandboxes", task.info.taskId);
    expect(readFileSync(join(sandbox, "owners"), "utf8")).toBe("65534\n65534\n");
    expect(statSync(join(sandbox, "bundle.tar.gz")).uid).toBe(65534);
    expect(reports.find((r) => r.taskId === secret.info.taskId)).toMatchObject({
      state: "TASK_FAILED",
      extra: { reason: "REASON_CONTAINER_LAUNCH_FAILED", message: `Failed to fetch '${join(files, "hello.txt")}': ${join(files, "hello.txt")}: Permission denied` },
    });
  });
});
