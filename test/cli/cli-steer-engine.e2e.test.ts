/**
 * Steering a running service with the `corral` bin against a real scheduler (startCorral,
 * memory store, simulated cluster): a canary deploy that waits for `plan … continue`, a plan
 * interrupted and continued, `plans`, and `pod` list, info, restart --watch, pause. Assertions are on
 * what the CLI prints and its exit codes; waiting is the CLI's own `--watch` (over WatchPlans:
 * its poll interval is a minute, so a CLI that polled would time out) or a bounded loop of CLI
 * calls.
 */
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCorral } from "../../src/app.js";
import type { Corral } from "../../src/app.js";
import { resolveOptions } from "../../src/config.js";
import { runCli, shown } from "./run-cli.js";
import type { CliResult } from "./run-cli.js";

const SPEC = `name: {{SERVICE_NAME}}
pods:
  hello:
    count: 1
    tasks:
      server:
        goal: RUNNING
        cmd: sleep 1000
        cpus: 0.1
        memory: 32
  world:
    count: 3
    tasks:
      server:
        goal: RUNNING
        cmd: sleep 1000
        cpus: 0.1
        memory: 32
        volume:
          path: data
          type: ROOT
          size: 10
plans:
  deploy:
    strategy: serial
    phases:
      hello:
        strategy: serial
        pod: hello
      world:
        strategy: canary
        pod: world
`;

let corral: Corral;
const cli = (args: readonly string[], stdin?: string): Promise<CliResult> => runCli(args, { server: corral.address, ...(stdin === undefined ? {} : { stdin }) });
const ok = async (args: readonly string[]): Promise<string> => {
  const r = await cli(args);
  expect(r.code, `${args.join(" ")}\n${shown(r)}`).toBe(0);
  return r.stdout;
};

/** The status of each step of a plan, by step name (plan NAME PLAN --json). */
async function steps(name: string, plan: string): Promise<Record<string, string>> {
  const parsed = JSON.parse(await ok(["plan", name, plan, "--json"])) as { plan: { phases: { steps: { name: string; status: string }[] }[] } };
  return Object.fromEntries(parsed.plan.phases.flatMap((p) => p.steps.map((s) => [s.name, s.status.replace(/^STATUS_/, "")])));
}

/** Calls `probe` until it returns true (a CLI call each time), at most `tries` times. */
async function until(probe: () => Promise<boolean>, what: string, tries = 100): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await probe()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting until ${what}`);
}

beforeAll(async () => {
  corral = await startCorral(resolveOptions(["--listen", "127.0.0.1:0", "--store", "memory", "--cluster", "sim"], {}), pino({ level: "silent" }));
});

afterAll(async () => {
  await corral?.stop();
});

describe("steering a service with the CLI on a real scheduler", () => {
  it("a canary phase waits for continue, twice; interrupt and continue say when nothing changed; plans lists the plans", async () => {
    const put = await cli(["put", "canary", "-"], SPEC);
    expect(put.code, shown(put)).toBe(0);
    // The first canary step waits for the operator.
    await until(async () => (await steps("canary", "deploy"))["hello-0:[server]"] === "COMPLETE", "hello-0 is deployed");
    expect((await steps("canary", "deploy"))["world-0:[server]"]).toMatch(/^(WAITING|PENDING)$/);
    const plans = await ok(["plans", "canary"]);
    expect(plans).toMatch(/^PLAN\s+STATUS\s+STRATEGY\s+STEPS$/m);
    expect(plans).toMatch(/^deploy\s+WAITING\s+SERIAL\s+1\/4$/m);
    expect(plans).toMatch(/^recovery\s+/m);

    const first = await ok(["plan", "canary", "deploy", "continue", "world"]);
    expect(first.split("\n")[0]).toBe("canary: plan deploy, phase world: continue done");
    await until(async () => (await steps("canary", "deploy"))["world-0:[server]"] === "COMPLETE", "world-0 is deployed");
    expect((await steps("canary", "deploy"))["world-1:[server]"]).toMatch(/^(WAITING|PENDING)$/);

    // Interrupting the plan while it waits changes it; a second interrupt changes nothing.
    expect((await ok(["plan", "canary", "deploy", "interrupt"])).split("\n")[0]).toBe("canary: plan deploy: interrupt done");
    expect((await ok(["plan", "canary", "deploy", "interrupt"])).split("\n")[0]).toBe("canary: plan deploy: nothing changed (it already was as interrupt leaves it)");
    expect((await ok(["plan", "canary", "deploy", "continue"])).split("\n")[0]).toBe("canary: plan deploy: continue done");

    // The second canary continue releases world-1; after it the phase's serial strategy runs the rest.
    const second = await cli(["plan", "canary", "deploy", "continue", "world", "--watch", "--interval", "60000"]);
    expect(second.code, shown(second)).toBe(0);
    const lines = second.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe("canary: plan deploy, phase world: continue done");
    expect(lines).toContain("world/world-2:[server] COMPLETE");
    expect(lines.at(-1)).toBe("plan deploy COMPLETE");
    expect(await ok(["plans", "canary"])).toMatch(/^deploy\s+COMPLETE\s+SERIAL\s+4\/4$/m);
  }, 120_000);

  it("pod list, info, restart (a new task in place), pause twice; errors map to exit codes", async () => {
    const put = await cli(["put", "pods", "-", "--watch", "--interval", "60000"], SPEC.replace("strategy: canary", "strategy: serial"));
    expect(put.code, shown(put)).toBe(0);
    const list = await ok(["pod", "pods"]);
    expect(list).toMatch(/^POD\s+TASK\s+STATE\s+AGENT\s+HOSTNAME\s+NOTE$/m);
    for (const pod of ["hello-0", "world-0", "world-1", "world-2"]) expect(list).toMatch(new RegExp(`^${pod}\\s+${pod}-server\\s+TASK_RUNNING\\s+\\S+\\s+\\S+`, "m"));

    type PodJson = { name: string; agentId: string; tasks: { id: string; state: string }[]; reservations: { resource: string; persistenceId: string }[] };
    const info = async (): Promise<PodJson> => JSON.parse(await ok(["pod", "pods", "info", "world-0", "--json"])) as PodJson;
    const before = await info();
    expect(before.tasks).toHaveLength(1);
    expect(before.reservations.some((r) => r.resource === "disk" && r.persistenceId !== "")).toBe(true);
    const text = await ok(["pod", "pods", "info", "world-0"]);
    expect(text).toContain(before.tasks[0]!.id);

    // --watch waits (over WatchPlans) until the pod runs a new task.
    const restarted = await ok(["pod", "pods", "restart", "world-0", "--watch", "--interval", "60000"]);
    expect(restarted.split("\n")[0]).toBe(`pods: pod world-0 restarted; killed ${before.tasks[0]!.id}`);
    expect(restarted).toContain("pods: pod world-0 runs again");
    const after = await info();
    expect(after.tasks[0]!.id).not.toBe(before.tasks[0]!.id);
    expect(after.tasks[0]!.state).toBe("TASK_RUNNING");
    expect((await info()).agentId).toBe(before.agentId); // relaunched in place

    const paused = await ok(["pod", "pods", "pause", "world-1"]);
    expect(paused.split("\n")[0]).toMatch(/^pods: pod world-1 paused; killed \S+/);
    expect(paused).toMatch(/^paused:\s+yes$/m);
    expect((await ok(["pod", "pods", "pause", "world-1"])).split("\n")[0]).toBe("pods: pod world-1: nothing changed (already paused)");
    expect((await ok(["pod", "pods", "resume", "world-1"])).split("\n")[0]).toMatch(/^pods: pod world-1 resumed; killed \S+/);

    const noPod = await cli(["pod", "pods", "restart", "world-9"]);
    expect(noPod.code, shown(noPod)).toBe(3);
    const noStep = await cli(["plan", "pods", "deploy", "restart", "world", "world-9:[server]"]);
    expect(noStep.code, shown(noStep)).toBe(3);
    const noService = await cli(["plans", "nobody"]);
    expect(noService.code, shown(noService)).toBe(3);
  }, 120_000);
});
