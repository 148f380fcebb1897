/**
 * The real server (startCorral, gRPC) on the local agent it starts (a daemon, through the Mesos driver): hello-world, scaled down to quick
 * check intervals, deploys three real task processes that write their files; a killed task
 * process is relaunched by the recovery plan on the same volume; a FINISH task's non-zero exit
 * is reported as FAILED and retried.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { startCorral } from "../../src/app.js";
import type { Corral } from "../../src/app.js";
import { resolveOptions } from "../../src/config.js";
import { Status, createAdminClient } from "../../src/client/index.js";
import type { AdminClient } from "../../src/client/index.js";
import { sandboxIds, sandboxOf } from "../local/agent-world.js";
import { killEverything, tempDataDir, waitFor } from "../local/local-harness.js";
import { FINISH_SPEC } from "../local/specs.js";
import { ROOT, taskPids } from "./scheduler-process.js";

const HELLO = readFileSync(join(ROOT, "examples/hello-world.yml"), "utf8").replace(/interval: 5/g, "interval: 1");


const running: { corral: Corral; client: AdminClient; dataDir: string }[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) {
    r.client.close();
    await r.corral.stop();
    await killEverything(r.dataDir);
  }
});

async function start(): Promise<{ corral: Corral; client: AdminClient; dataDir: string }> {
  const dataDir = tempDataDir();
  const corral = await startCorral(resolveOptions(["--listen", "127.0.0.1:0", "--data-dir", dataDir], { PATH: process.env["PATH"] }), pino({ level: "silent" }));
  const client = createAdminClient({ address: corral.address, defaultDeadlineMs: 5000 });
  const r = { corral, client, dataDir };
  running.push(r);
  return r;
}

async function complete(client: AdminClient, name: string, plan = "deploy"): Promise<string[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { plan: p } = await client.getPlan({ name, plan });
    if (p?.status === Status.COMPLETE) return p.phases.flatMap((ph) => ph.steps.flatMap((s) => s.taskIds));
    if (Date.now() > deadline) throw new Error(`${plan} of ${name} did not complete`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function sandbox(dataDir: string, taskId: string): string {
  return sandboxOf(dataDir, taskId) ?? join(dataDir, "no-sandbox", taskId);
}

describe("the real server on the local agent", () => {
  it("runs hello-world's three tasks as processes that write their files, and heals a killed one on the same volume", async () => {
    const { client, dataDir } = await start();
    await client.putService({ name: "hello", spec: HELLO, parameters: {} });
    const ids = await complete(client, "hello");
    expect(ids).toHaveLength(3);
    const hello = ids.find((id) => id.includes("__hello-0-server__"))!;
    expect(readFileSync(join(sandbox(dataDir, hello), "hello-container-path", "output"), "utf8")).toBe("hello\n");
    for (const world of ids.filter((id) => id.includes("__world-"))) {
      expect(readFileSync(join(sandbox(dataDir, world), "world-container-path1", "output"), "utf8")).toBe("world1\n");
      expect(readFileSync(join(sandbox(dataDir, world), "world-container-path2", "output"), "utf8")).toBe("world2\n");
    }

    process.kill(-taskPids(dataDir).get(hello)!, "SIGKILL");
    const relaunched = await waitFor("a new hello-0 task", () => {
      const ids2 = sandboxIds(dataDir).filter((id) => id.includes("__hello-0-server__") && id !== hello);
      return ids2.length === 1 && existsSync(join(sandbox(dataDir, ids2[0]!), "task.json")) && ids2[0];
    });
    const [recovered] = await complete(client, "hello", "recovery");
    expect(recovered).toBe(relaunched);
    // Same volume: the first run's line is still there, the relaunch added its own.
    await waitFor("two lines", () => readFileSync(join(sandbox(dataDir, relaunched), "hello-container-path", "output"), "utf8") === "hello\nhello\n");
  }, 90_000);

  it("reports a FINISH task's non-zero exit as FAILED and retries it until it exits 0", async () => {
    const { client, dataDir } = await start();
    await client.putService({ name: "job", spec: FINISH_SPEC, parameters: {} });
    const [last] = await complete(client, "job");
    const runs = readFileSync(join(sandbox(dataDir, last!), "data", "runs"), "utf8");
    expect(runs).toBe("run\nrun\n");
    // The wrapper records each run's exit status in its sandbox.
    const exits = sandboxIds(dataDir).map((id) => readFileSync(join(sandbox(dataDir, id), "exit"), "utf8").trim());
    expect(exits.sort()).toEqual(["0", "1"]);
  }, 90_000);
});
