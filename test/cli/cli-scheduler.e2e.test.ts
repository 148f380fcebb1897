/**
 * `corral scheduler` against scripted servers: the mode and schema version a scheduler reports,
 * in text and JSON, and a scheduler older than those fields.
 */
import type * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SchedulerState, ServiceMode } from "../../src/client/index.js";
import { startFakeAdmin } from "./fake-admin.js";
import type { FakeAdmin } from "./fake-admin.js";
import { runCli, shown } from "./run-cli.js";

let current: FakeAdmin;
let older: FakeAdmin;

beforeAll(async () => {
  current = await startFakeAdmin({
    getScheduler: (_call: unknown, cb: grpc.sendUnaryData<object>) =>
      cb(null, { state: SchedulerState.RUNNING, services: 2, uninstalling: 1, lastUninstallEvent: 4n, serviceMode: ServiceMode.STATIC, schemaVersion: 2 }),
  });
  // A scheduler from before issue 16 sends neither field.
  older = await startFakeAdmin({
    getScheduler: (_call: unknown, cb: grpc.sendUnaryData<object>) => cb(null, { state: SchedulerState.RUNNING, services: 0 }),
  });
});

afterAll(async () => {
  await current?.stop();
  await older?.stop();
});

describe("corral scheduler", () => {
  it("shows the mode and the store's schema version", async () => {
    const r = await runCli(["scheduler"], { server: current.address });
    expect(r.code, shown(r)).toBe(0);
    expect(r.stdout.trimEnd().split("\n")).toEqual([
      `leader:       ${current.address}`,
      "state:        RUNNING",
      "mode:         static",
      "schema:       2",
      "services:     2 (1 being removed)",
      "last event:   4",
    ]);
  });

  it("--json carries them as serviceMode and schemaVersion", async () => {
    const r = await runCli(["scheduler", "--json"], { server: current.address });
    expect(r.code, shown(r)).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ state: "SCHEDULER_STATE_RUNNING", serviceMode: "SERVICE_MODE_STATIC", schemaVersion: 2 });
  });

  it("says unknown for a scheduler that does not report them", async () => {
    const r = await runCli(["scheduler"], { server: older.address });
    expect(r.code, shown(r)).toBe(0);
    expect(r.stdout).toMatch(/^mode: +unknown$/m);
    expect(r.stdout).toMatch(/^schema: +unknown$/m);
  });
});
