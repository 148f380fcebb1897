/**
 * Placement on the local cluster split into three agents (`--local-agents 3`): hello-world whose
 * world pods are hostname-UNIQUE lands them on different agents, each with a hostname of its own.
 */
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { isAlive, killEverything, startLocal, tempDataDir, waitFor } from "./local-harness.js";
import type { LocalRun } from "./local-harness.js";

const HELLO_WORLD = readFileSync(new URL("../../examples/hello-world.yml", import.meta.url), "utf8");

/** hello-world with `placement` on its world pod too, as the reference's svc.yml has it. */
const UNIQUE_WORLDS = HELLO_WORLD.replace(
  "  world:\n    count: 2\n",
  "  world:\n    count: 2\n    placement: '[[\"hostname\", \"UNIQUE\"]]'\n",
);

const runs: LocalRun[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const run of runs.splice(0)) await run.stop().catch(() => undefined);
  for (const dir of dirs.splice(0)) await killEverything(dir);
});

describe("local cluster: placement across local agents", () => {
  it("hello-world's hostname-UNIQUE world pods land on different agents", async () => {
    expect(UNIQUE_WORLDS).not.toBe(HELLO_WORLD);
    const dir = tempDataDir();
    dirs.push(dir);
    const run = await startLocal(dir, { agents: 3 });
    runs.push(run);
    await run.scheduler.putService({ name: "hello", spec: UNIQUE_WORLDS, parameters: {} });
    await waitFor("hello-world deployed", () => run.scheduler.getPlan("hello", "deploy").status === "COMPLETE", 90_000);
    const worlds = run.cluster.tasks().filter((t) => t.name.startsWith("world-"));
    expect(worlds.map((t) => t.name).sort()).toEqual(["world-0-server", "world-1-server"]);
    expect(new Set(worlds.map((t) => t.agentId)).size).toBe(2);
    const hosts = worlds.map((t) => t.info.labels["offer_hostname"]);
    expect(new Set(hosts).size).toBe(2);
    for (const host of hosts) expect(host).toMatch(/^localhost-agent-[0-2]$/);
    // Real processes, all on this machine.
    for (const t of worlds) expect(t.pid !== undefined && isAlive(t.pid)).toBe(true);
  });
});
