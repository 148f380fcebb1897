/**
 * TaskFiles over the agent's operator API (GET_TASKS) and /files endpoints, against a scripted
 * agent that serves Mesos shapes: Task JSON with statuses, FileInfo listings and latin1 reads.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { addressOf, closeDrivers, FRAMEWORK, makeDriver, type Kit } from "../../../../test/fixtures/mesos/driver-kit.js";
import { ScriptedMaster } from "../../../../test/fixtures/mesos/scripted-master.js";
import { SchedulerError } from "../../../domain/errors.js";

const SANDBOXES = "/var/lib/corral/agent/sandboxes";
/** Every byte value, so the latin1 round trip is checked for all of them. */
const STDOUT = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

function task(fid: string, id: string, state: string, statuses: object[]): object {
  return { task_id: { value: id }, framework_id: { value: fid }, agent_id: { value: "agent-1" }, name: id, state, statuses, resources: [] };
}

let m: ScriptedMaster;
let kit: Kit;

beforeEach(async () => {
  m = await ScriptedMaster.start();
  const fid = m.frameworkId;
  const sandbox = (id: string): string => `/frameworks/${fid}/tasks/${id}`;
  m.other = (req, res) => {
    const url = new URL(req.url, "http://x");
    const path = url.searchParams.get("path") ?? "";
    const json = (status: number, body: unknown): void => void res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
    if (url.pathname === "/api/v1" && req.body["type"] === "GET_TASKS") {
      return json(200, {
        type: "GET_TASKS",
        get_tasks: {
          tasks: [
            task(fid, "t-run", "TASK_RUNNING", [
              { task_id: { value: "t-run" }, state: "TASK_STARTING", container_status: { executor_pid: 4000 } },
              { task_id: { value: "t-run" }, state: "TASK_RUNNING", container_status: { executor_pid: 4242 } },
            ]),
            task("other-framework", "t-foreign", "TASK_RUNNING", []),
            task(fid, "t-empty", "TASK_STAGING", []),
          ],
          completed_tasks: [task(fid, "t-done", "TASK_FINISHED", [{ state: "TASK_FINISHED", container_status: { executor_pid: 4300 } }])],
        },
      });
    }
    if (url.pathname === "/files/browse") {
      if (path === sandbox("t-run") || path === sandbox("t-done")) {
        const id = path.split("/").at(-1)!;
        return json(200, [{ path: `${SANDBOXES}/${id}/stdout`, nlink: 1, size: STDOUT.length, mtime: 1718000000, mode: "-rw-r--r--", uid: "svc", gid: "svc" }]);
      }
      if (path === sandbox("t-empty")) return json(200, []);
      return json(404, "not found");
    }
    if (url.pathname === "/files/read") {
      if (path === `${sandbox("t-run")}/stdout`) {
        const offset = Number(url.searchParams.get("offset"));
        if (offset === -1) return json(200, { data: "", offset: STDOUT.length });
        const length = Number(url.searchParams.get("length"));
        return json(200, { data: STDOUT.subarray(offset, offset + length).toString("latin1"), offset });
      }
      if (path === `${sandbox("t-run")}/stderr`) return void res.writeHead(400).end("not a regular file");
      return void res.writeHead(404).end();
    }
    res.writeHead(404).end();
  };
  kit = makeDriver(addressOf(m.endpoint), { files: true });
});

afterEach(async () => {
  await closeDrivers();
  await m.close();
});

describe("MesosTaskFiles", () => {
  it("is only there when asked for, and needs a subscription (the framework id)", async () => {
    expect(makeDriver(addressOf(m.endpoint)).driver.taskFiles).toBeUndefined();
    await expect(kit.driver.taskFiles!.sandboxOf("t-run", "agent-1")).rejects.toMatchObject({ code: "unavailable" });
  });

  it("finds a running task's sandbox and pid (latest status), an ended task's sandbox, and nothing for unknown tasks", async () => {
    await kit.driver.subscribe(FRAMEWORK, kit.events);
    const files = kit.driver.taskFiles!;
    expect(await files.sandboxOf("t-run", "agent-1")).toEqual({ path: `${SANDBOXES}/t-run`, pid: 4242, ended: false });
    expect(await files.sandboxOf("t-done", "agent-1")).toEqual({ path: `${SANDBOXES}/t-done`, ended: true });
    expect(await files.sandboxOf("t-empty", "agent-1")).toEqual({ path: `/frameworks/${m.frameworkId}/tasks/t-empty`, ended: false });
    expect(await files.sandboxOf("t-foreign", "agent-1")).toBeUndefined();
    expect(await files.sandboxOf("t-nope", "agent-1")).toBeUndefined();
    expect(await files.sandboxOf("t-run", "agent-2")).toBeUndefined();
    const gets = m.requests.filter((r) => r.url === "/api/v1");
    expect(gets[0]!.body).toEqual({ type: "GET_TASKS" });
  });

  it("reads bytes exactly (latin1 on the wire), with the file size, and an empty chunk at the end", async () => {
    await kit.driver.subscribe(FRAMEWORK, kit.events);
    const files = kit.driver.taskFiles!;
    const all = await files.readFile("t-run", "agent-1", "stdout", 0, 1000);
    expect(Buffer.from(all!.data).equals(STDOUT)).toBe(true);
    expect(all).toMatchObject({ offset: 0, size: 256 });
    const middle = await files.readFile("t-run", "agent-1", "stdout", 250, 4);
    expect([...middle!.data]).toEqual([250, 251, 252, 253]);
    expect(middle).toMatchObject({ offset: 250, size: 256 });
    const end = await files.readFile("t-run", "agent-1", "stdout", 256, 10);
    expect(end).toEqual({ data: new Uint8Array(0), offset: 256, size: 256 });
  });

  it("a file not written yet is empty, a gone sandbox is undefined, a non-regular file is failed_precondition", async () => {
    await kit.driver.subscribe(FRAMEWORK, kit.events);
    const files = kit.driver.taskFiles!;
    expect(await files.readFile("t-empty", "agent-1", "stdout", 0, 10)).toEqual({ data: new Uint8Array(0), offset: 0, size: 0 });
    expect(await files.readFile("t-nope", "agent-1", "stdout", 0, 10)).toBeUndefined();
    const err = await files.readFile("t-run", "agent-1", "stderr", 0, 10).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchedulerError);
    expect(err).toMatchObject({ code: "failed_precondition" });
    await expect(files.readFile("t-run", "agent-1", "stdout", -1, 10)).rejects.toMatchObject({ code: "invalid_argument" });
  });
});
