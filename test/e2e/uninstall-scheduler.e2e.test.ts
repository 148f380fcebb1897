/**
 * Whole-scheduler uninstall through the real composition root on the local agent: every
 * service removed, the store wiped, health NOT_SERVING, and the completion queryable with
 * GetScheduler (and the CLI).
 */
import { readFileSync } from "node:fs";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { startCorral } from "../../src/app.js";
import { resolveOptions } from "../../src/config.js";
import { Health, HealthCheckResponse_ServingStatus, SchedulerState, Status, createAdminClient, createPromiseClient } from "../../src/client/index.js";
import { runCli } from "../cli/run-cli.js";
import { reservedResources, sandboxIds, savedTasks, settled } from "../local/agent-world.js";
import { isAlive, killEverything, tempDataDir } from "../local/local-harness.js";
import { taskPids } from "./scheduler-process.js";

const SIMPLE = readFileSync(new URL("../../examples/simple.yml", import.meta.url), "utf8");
const silent = pino({ level: "silent" });
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await killEverything(d);
});

describe("whole-scheduler uninstall (--uninstall)", () => {
  it("removes every service, wipes the store, reports NOT_SERVING and UNINSTALLED, and refuses new services", async () => {
    const dataDir = tempDataDir("uninstall");
    dirs.push(dataDir);
    const argv = ["--listen", "127.0.0.1:0", "--cluster", "local", "--data-dir", dataDir];
    const first = await startCorral(resolveOptions(argv, { PATH: process.env["PATH"] }), silent);
    const c1 = createAdminClient({ address: first.address, defaultDeadlineMs: 5000 });
    for (const name of ["a", "b"]) await c1.putService({ name, spec: SIMPLE, parameters: {} });
    for (const name of ["a", "b"]) {
      while ((await c1.getPlan({ name })).plan?.status !== Status.COMPLETE) await new Promise((r) => setTimeout(r, 50));
    }
    expect((await c1.getScheduler({})).state).toBe(SchedulerState.RUNNING);
    const pids = [...taskPids(dataDir).values()];
    expect(pids).toHaveLength(2);
    c1.close();
    await first.stop();

    const second = await startCorral(resolveOptions(argv, { CORRAL_UNINSTALL: "true", PATH: process.env["PATH"] }), silent);
    const c2 = createAdminClient({ address: second.address, defaultDeadlineMs: 5000 });
    const health = createPromiseClient(Health, second.address);
    try {
      await second.uninstalled;
      for (const pid of pids) expect(isAlive(pid)).toBe(false);
      expect(await settled(() => sandboxIds(dataDir), [])).toEqual([]);
      expect(await settled(() => reservedResources(dataDir), [])).toEqual([]);
      expect(await settled(() => savedTasks(dataDir), [])).toEqual([]);
      expect(await c2.getScheduler({})).toMatchObject({ state: SchedulerState.UNINSTALLED, services: 0, uninstalling: 0 });
      expect((await health.check({ service: "" })).status).toBe(HealthCheckResponse_ServingStatus.NOT_SERVING);
      expect((await c2.listServices({})).services).toEqual([]);
      await expect(c2.putService({ name: "c", spec: SIMPLE, parameters: {} })).rejects.toMatchObject({ code: grpc.status.FAILED_PRECONDITION });
      for (const root of ["ServiceList", "Services", "UninstallEvents"]) expect(await second.persister.children(root)).toEqual([]);
      expect(await second.persister.get("FrameworkID")).toBeUndefined();
      const cli = await runCli(["scheduler"], { server: second.address });
      expect(cli.code).toBe(0);
      expect(cli.stdout).toMatch(/state:\s+UNINSTALLED/);
    } finally {
      c2.close();
      health.close();
      await second.stop();
    }
  });
});
