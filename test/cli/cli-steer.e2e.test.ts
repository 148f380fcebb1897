/**
 * `corral plans`, `corral plan NAME PLAN ACTION …` and `corral pod …` against a scripted
 * MultiServiceAdmin (fake-admin.ts): tables, --json, what each sends, and every error the
 * scheduler can answer mapped to its exit code; the command line's own mistakes exit 2.
 */
import { create } from "@bufbuild/protobuf";
import type * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PlanAction, PlanSchema, PodAction, PodSchema, Status, Strategy } from "../../src/client/index.js";
import type { ControlPlanRequest, ControlPodRequest, Plan, Pod } from "../../src/client/index.js";
import { SchedulerError } from "../../src/domain/errors.js";
import { failure, startFakeAdmin } from "./fake-admin.js";
import type { FakeAdmin } from "./fake-admin.js";
import { runCli, shown } from "./run-cli.js";
import type { CliResult } from "./run-cli.js";

const step = (id: string, name: string, status: Status, message = "") => ({ id, name, status, message });

const PLANS: Plan[] = [
  create(PlanSchema, {
    name: "deploy",
    status: Status.IN_PROGRESS,
    strategy: Strategy.SERIAL,
    phases: [
      { id: "p1", name: "hello", status: Status.COMPLETE, strategy: Strategy.SERIAL, steps: [step("s1", "hello-0:[server]", Status.COMPLETE)] },
      {
        id: "p2",
        name: "world",
        status: Status.WAITING,
        strategy: Strategy.SERIAL_CANARY,
        steps: [step("s2", "world-0:[server]", Status.COMPLETE), step("s3", "world-1:[server]", Status.WAITING, "waiting for continue")],
      },
    ],
  }),
  create(PlanSchema, { name: "backup", status: Status.WAITING, strategy: Strategy.PARALLEL, phases: [{ id: "p3", name: "backup", steps: [step("s4", "backup-0:[run]", Status.PENDING)] }] }),
  create(PlanSchema, { name: "recovery", status: Status.COMPLETE, strategy: Strategy.PARALLEL }),
];

const task = (pod: string, index: number, id: string, agent: string, state = "TASK_RUNNING") => ({
  id,
  name: `${pod}-${index}-server`,
  podType: pod,
  podIndex: index,
  state,
  pid: 4242,
  agentId: agent,
  message: "",
});

const PODS: Pod[] = [
  create(PodSchema, {
    name: "hello-0",
    podType: "hello",
    podIndex: 0,
    agentId: "agent-1",
    hostname: "host-1",
    tasks: [task("hello", 0, "hello__hello-0-server__a1", "agent-1")],
    reservations: [
      { resourceId: "r-cpu", resource: "cpus", value: "0.5" },
      { resourceId: "r-disk", resource: "disk", value: "50", persistenceId: "vol-1", containerPath: "hello-container-path" },
    ],
  }),
  create(PodSchema, { name: "world-0", podType: "world", podIndex: 0, agentId: "agent-2", hostname: "host-2", tasks: [task("world", 0, "hello__world-0-server__b2", "agent-2")] }),
  create(PodSchema, { name: "world-1", podType: "world", podIndex: 1 }),
];

const notFound = (what: string) => failure(new SchedulerError("not_found", `${what} not found`));

let fake: FakeAdmin;
const cli = (args: readonly string[]): Promise<CliResult> => runCli(args, { server: fake.address });
const requests = <T>(method: string): T[] => fake.calls.filter((c) => c.method === method).map((c) => c.request as T);

beforeAll(async () => {
  const done = new Set<string>();
  const paused = new Set<string>();
  /** How often each pod was relaunched (its tasks' ids end in -N), and the pods an action killed since. */
  const relaunches = new Map<string, number>();
  const killed = new Set<string>();
  const current = (p: Pod): Pod => {
    const n = relaunches.get(p.name) ?? 0;
    return { ...p, paused: paused.has(p.name), tasks: n === 0 ? p.tasks : p.tasks.map((t) => ({ ...t, id: `${t.id}-${n}` })) };
  };
  fake = await startFakeAdmin({
    listPlans: (call: grpc.ServerUnaryCall<{ name: string }, object>, cb: grpc.sendUnaryData<object>) =>
      call.request.name === "hello" ? cb(null, { plans: PLANS }) : cb(notFound(`service ${call.request.name}`)),
    controlPlan: (call: grpc.ServerUnaryCall<ControlPlanRequest, object>, cb: grpc.sendUnaryData<object>) => {
      const r = call.request;
      if (r.name === "going") return cb(failure(new SchedulerError("failed_precondition", "service going is being removed")));
      if (r.name === "old") return cb(failure(new SchedulerError("unimplemented", "this scheduler does not control plans")));
      const plan = PLANS.find((p) => p.name === r.plan);
      if (plan === undefined) return cb(notFound(`plan ${r.plan}`));
      if (r.phase !== "" && !plan.phases.some((p) => p.name === r.phase || p.id === r.phase)) return cb(notFound(`phase ${r.phase} of plan ${r.plan}`));
      const bad = Object.keys(r.parameters).filter((k) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(k));
      if (bad.length > 0) return cb(failure(SchedulerError.invalid(bad.map((k) => ({ field: `parameters.${k}`, reason: "must match [A-Za-z_][A-Za-z0-9_]*" })))));
      const key = `${r.plan}/${r.action}/${r.phase}/${r.step}`;
      const changed = !done.has(key);
      done.add(key);
      cb(null, { plan, changed });
    },
    // The pods an action killed relaunch 60 ms after a watcher subscribes, and an event tells of it.
    watchPlans: (call: grpc.ServerWritableStream<{ names: string[] }, object>) => {
      const timer = setTimeout(() => {
        for (const p of killed) relaunches.set(p, (relaunches.get(p) ?? 0) + 1);
        killed.clear();
        call.write({ event: { sequence: 1n, name: "hello", plan: "recovery", phase: "world-0:[server]", step: "world-0:[server]", status: Status.COMPLETE } });
      }, 60);
      call.on("cancelled", () => clearTimeout(timer));
    },
    listPods: (call: grpc.ServerUnaryCall<{ name: string }, object>, cb: grpc.sendUnaryData<object>) =>
      call.request.name === "hello" ? cb(null, { pods: PODS.map(current) }) : cb(notFound(`service ${call.request.name}`)),
    controlPod: (call: grpc.ServerUnaryCall<ControlPodRequest, object>, cb: grpc.sendUnaryData<object>) => {
      const r = call.request;
      const pod = PODS.find((p) => p.name === r.pod);
      if (pod === undefined) return cb(notFound(`pod ${r.pod} of service ${r.name}`));
      const ids = current(pod).tasks.map((t) => t.id);
      killed.add(pod.name);
      if (r.action === PodAction.PAUSE || r.action === PodAction.RESUME) {
        const changed = paused.has(pod.name) !== (r.action === PodAction.PAUSE);
        if (r.action === PodAction.PAUSE) paused.add(pod.name);
        else paused.delete(pod.name);
        return cb(null, { pod: { ...pod, paused: paused.has(pod.name) }, killed: changed ? ids : [], changed });
      }
      cb(null, { pod: { ...pod, permanentlyFailed: r.action === PodAction.REPLACE }, killed: ids, changed: true });
    },
  });
});

afterAll(async () => {
  await fake?.stop();
});

const lines = (r: CliResult): string[] => r.stdout.trimEnd().split("\n");

describe("corral plans", () => {
  it("lists the plans: name, status, strategy, steps complete/total; --json is ListPlansResponse", async () => {
    const r = await cli(["plans", "hello"]);
    expect(r.code, shown(r)).toBe(0);
    expect(lines(r).map((l) => l.split(/\s+/))).toEqual([
      ["PLAN", "STATUS", "STRATEGY", "STEPS"],
      ["deploy", "IN_PROGRESS", "SERIAL", "2/3"],
      ["backup", "WAITING", "PARALLEL", "0/1"],
      ["recovery", "COMPLETE", "PARALLEL", "0/0"],
    ]);
    const j = await cli(["plans", "hello", "--json"]);
    expect(j.code, shown(j)).toBe(0);
    expect(JSON.parse(j.stdout).plans.map((p: { name: string; strategy: string }) => [p.name, p.strategy])).toEqual([
      ["deploy", "STRATEGY_SERIAL"],
      ["backup", "STRATEGY_PARALLEL"],
      ["recovery", "STRATEGY_PARALLEL"],
    ]);
  });

  it("an unknown service is NOT_FOUND, exit 3", async () => {
    const r = await cli(["plans", "nobody"]);
    expect(r.code, shown(r)).toBe(3);
    expect(r.stderr).toBe("corral: service nobody not found (NOT_FOUND)\n");
  });
});

describe("corral plan NAME PLAN ACTION", () => {
  it("acts on the plan and prints it after; the same action again says nothing changed (still exit 0)", async () => {
    const r = await cli(["plan", "hello", "deploy", "interrupt"]);
    expect(r.code, shown(r)).toBe(0);
    expect(lines(r).slice(0, 3)).toEqual(["hello: plan deploy: interrupt done", "", "plan deploy: IN_PROGRESS (SERIAL)"]);
    expect(r.stdout).toMatch(/^world\s+world-1:\[server\]\s+WAITING\s+waiting for continue$/m);
    const again = await cli(["plan", "hello", "deploy", "interrupt"]);
    expect(again.code, shown(again)).toBe(0);
    expect(lines(again)[0]).toBe("hello: plan deploy: nothing changed (it already was as interrupt leaves it)");
  });

  it("sends the phase and step, by name or id, and each action by its word", async () => {
    const before = requests("controlPlan").length;
    const words = ["continue", "force-complete", "restart", "stop"] as const;
    for (const word of words) {
      const r = await cli(["plan", "hello", "deploy", word, "world", "world-1:[server]"]);
      expect(r.code, shown(r)).toBe(0);
      expect(lines(r)[0]).toBe(`hello: plan deploy, phase world, step world-1:[server]: ${word} done`);
    }
    const byId = await cli(["plan", "hello", "deploy", "continue", "p2"]);
    expect(byId.code, shown(byId)).toBe(0);
    expect(requests<ControlPlanRequest>("controlPlan").slice(before).map((q) => [q.name, q.plan, q.action, q.phase, q.step])).toEqual([
      ["hello", "deploy", PlanAction.CONTINUE, "world", "world-1:[server]"],
      ["hello", "deploy", PlanAction.FORCE_COMPLETE, "world", "world-1:[server]"],
      ["hello", "deploy", PlanAction.RESTART, "world", "world-1:[server]"],
      ["hello", "deploy", PlanAction.STOP, "world", "world-1:[server]"],
      ["hello", "deploy", PlanAction.CONTINUE, "p2", ""],
    ]);
  });

  it("start -p KEY=VALUE sends the parameters; --json is ControlPlanResponse", async () => {
    const r = await cli(["plan", "hello", "backup", "start", "-p", "TARGET=s3://b", "--param", "DRY_RUN=1", "--json"]);
    expect(r.code, shown(r)).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ changed: true, plan: { name: "backup", status: "STATUS_WAITING", strategy: "STRATEGY_PARALLEL" } });
    expect(requests<ControlPlanRequest>("controlPlan").at(-1)).toMatchObject({ plan: "backup", action: PlanAction.START, parameters: { TARGET: "s3://b", DRY_RUN: "1" } });
  });

  it.each([
    ["an unknown plan", ["plan", "hello", "nope", "start"], 3, "corral: plan nope not found (NOT_FOUND)\n"],
    ["an unknown phase", ["plan", "hello", "deploy", "continue", "nope"], 3, "corral: phase nope of plan deploy not found (NOT_FOUND)\n"],
    [
      "a bad parameter (INVALID_ARGUMENT, the fields one per line)",
      ["plan", "hello", "backup", "start", "-p", "1BAD=x"],
      2,
      "corral: ControlPlan rejected the request (INVALID_ARGUMENT):\n  parameters.1BAD: must match [A-Za-z_][A-Za-z0-9_]*\n",
    ],
    ["a service being removed (FAILED_PRECONDITION)", ["plan", "going", "deploy", "stop"], 1, "corral: ControlPlan failed (FAILED_PRECONDITION): service going is being removed\n"],
  ])("%s: exit code and message", async (_case, args, code, stderr) => {
    const r = await cli(args);
    expect(r.code, shown(r)).toBe(code);
    expect(r.stderr).toBe(stderr);
    expect(r.stdout).toBe("");
  });

  it("a scheduler without ControlPlan (UNIMPLEMENTED) exits 1 and says so", async () => {
    const r = await cli(["plan", "old", "deploy", "stop"]);
    expect(r.code, shown(r)).toBe(1);
    expect(r.stderr).toMatch(/^corral: the scheduler at 127\.0\.0\.1:\d+ does not implement ControlPlan yet \(UNIMPLEMENTED: this scheduler does not control plans\)$/m);
  });

  it.each([
    ["an unknown action", ["plan", "hello", "deploy", "frobnicate"], /^corral: command-argument value 'frobnicate' is invalid for argument 'action'\. Allowed choices are start, stop, interrupt, continue, force-complete, restart\./],
    ["-p with another action", ["plan", "hello", "deploy", "stop", "-p", "A=1"], /^corral: -p\/--param goes with start: corral plan hello deploy start -p KEY=VALUE$/m],
    ["-p without an action", ["plan", "hello", "deploy", "-p", "A=1"], /^corral: -p\/--param goes with start/],
    ["-p without =", ["plan", "hello", "backup", "start", "-p", "A"], /^corral: option '-p, --param <KEY=VALUE>' argument 'A' is invalid\. expected KEY=VALUE/],
    ["too many arguments", ["plan", "hello", "deploy", "continue", "world", "world-0:[server]", "extra"], /^corral: too many arguments for 'plan'/],
  ])("%s exits 2 without calling the scheduler", async (_case, args, stderr) => {
    const before = fake.calls.length;
    const r = await cli(args);
    expect(r.code, shown(r)).toBe(2);
    expect(r.stderr).toMatch(stderr);
    expect(fake.calls.length).toBe(before);
  });
});

describe("corral pod", () => {
  it("list (the default) shows one row per task, grouped by pod; a pod not launched yet gets a row too", async () => {
    for (const args of [["pod", "hello"], ["pod", "hello", "list"]]) {
      const r = await cli(args);
      expect(r.code, shown(r)).toBe(0);
      expect(lines(r).map((l) => l.split(/\s{2,}/))).toEqual([
        ["POD", "TASK", "STATE", "AGENT", "HOSTNAME", "NOTE"],
        ["hello-0", "hello-0-server", "TASK_RUNNING", "agent-1", "host-1"],
        ["world-0", "world-0-server", "TASK_RUNNING", "agent-2", "host-2"],
        ["world-1", "-", "-", "-", "-"],
      ]);
    }
    const j = await cli(["pod", "hello", "--json"]);
    expect(j.code, shown(j)).toBe(0);
    expect(JSON.parse(j.stdout).pods.map((p: { name: string }) => p.name)).toEqual(["hello-0", "world-0", "world-1"]);
  });

  it("info shows one pod: agent, tasks with their ids, reservations with volumes", async () => {
    const r = await cli(["pod", "hello", "info", "hello-0"]);
    expect(r.code, shown(r)).toBe(0);
    expect(r.stdout).toMatch(/^pod:\s+hello-0 \(type hello, index 0\)$/m);
    expect(r.stdout).toMatch(/^agent:\s+agent-1 \(host-1\)$/m);
    expect(r.stdout).toMatch(/^paused:\s+no$/m);
    expect(r.stdout).toMatch(/^hello-0-server\s+hello__hello-0-server__a1\s+TASK_RUNNING\s+4242\s+agent-1$/m);
    expect(r.stdout).toMatch(/^disk\s+50\s+r-disk\s+vol-1 at hello-container-path$/m);
    const j = await cli(["pod", "hello", "info", "world-1", "--json"]);
    expect(j.code, shown(j)).toBe(0);
    expect(JSON.parse(j.stdout)).toMatchObject({ name: "world-1", tasks: [], agentId: "" });
    const missing = await cli(["pod", "hello", "info", "world-9"]);
    expect(missing.code, shown(missing)).toBe(3);
    expect(missing.stderr).toBe("corral: service hello has no pod world-9; its pods: hello-0, world-0, world-1 (NOT_FOUND)\n");
  });

  it("restart and replace print what was killed and the pod after", async () => {
    const r = await cli(["pod", "hello", "restart", "world-0"]);
    expect(r.code, shown(r)).toBe(0);
    expect(lines(r)[0]).toBe("hello: pod world-0 restarted; killed hello__world-0-server__b2");
    expect(r.stdout).toMatch(/^pod:\s+world-0 \(type world, index 0\)$/m);
    const j = await cli(["pod", "hello", "replace", "world-0", "--json"]);
    expect(j.code, shown(j)).toBe(0);
    expect(JSON.parse(j.stdout)).toMatchObject({ changed: true, killed: ["hello__world-0-server__b2"], pod: { name: "world-0", permanentlyFailed: true } });
    expect(requests<ControlPodRequest>("controlPod").slice(-2).map((q) => [q.name, q.pod, q.action])).toEqual([
      ["hello", "world-0", PodAction.RESTART],
      ["hello", "world-0", PodAction.REPLACE],
    ]);
  });

  it("pause, pause again (nothing changed), resume", async () => {
    const paused = await cli(["pod", "hello", "pause", "hello-0"]);
    expect(paused.code, shown(paused)).toBe(0);
    expect(lines(paused)[0]).toBe("hello: pod hello-0 paused; killed hello__hello-0-server__a1");
    expect(paused.stdout).toMatch(/^paused:\s+yes$/m);
    const list = await cli(["pod", "hello"]);
    expect(list.stdout).toMatch(/^hello-0\s+hello-0-server\s+TASK_RUNNING\s+agent-1\s+host-1\s+paused$/m);
    const again = await cli(["pod", "hello", "pause", "hello-0"]);
    expect(again.code, shown(again)).toBe(0);
    expect(lines(again)[0]).toBe("hello: pod hello-0: nothing changed (already paused)");
    const resumed = await cli(["pod", "hello", "resume", "hello-0"]);
    expect(resumed.code, shown(resumed)).toBe(0);
    expect(lines(resumed)[0]).toBe("hello: pod hello-0 resumed; killed hello__hello-0-server__a1");
  });

  it("an unknown pod or service is NOT_FOUND, exit 3", async () => {
    const pod = await cli(["pod", "hello", "restart", "nope-0"]);
    expect(pod.code, shown(pod)).toBe(3);
    expect(pod.stderr).toBe("corral: pod nope-0 of service hello not found (NOT_FOUND)\n");
    const service = await cli(["pod", "nobody"]);
    expect(service.code, shown(service)).toBe(3);
  });

  it("--watch after an action waits until the pod's tasks are new ones and running, following WatchPlans", async () => {
    const r = await cli(["pod", "hello", "restart", "world-0", "--watch", "--interval", "60000"]);
    expect(r.code, shown(r)).toBe(0);
    const out = lines(r);
    expect(out.slice(0, 4)).toEqual([
      "hello: pod world-0 restarted; killed hello__world-0-server__b2",
      "world-0-server TASK_RUNNING on host-2 (task hello__world-0-server__b2)",
      "world-0-server TASK_RUNNING on host-2 (task hello__world-0-server__b2-1)",
      "hello: pod world-0 runs again",
    ]);
    expect(r.stdout).toMatch(/^world-0-server\s+hello__world-0-server__b2-1\s+TASK_RUNNING/m);
    const j = await cli(["pod", "hello", "restart", "world-0", "--watch", "--json", "--interval", "60000"]);
    expect(j.code, shown(j)).toBe(0);
    expect(JSON.parse(j.stdout)).toMatchObject({ control: { killed: ["hello__world-0-server__b2-1"] }, pod: { tasks: [{ id: "hello__world-0-server__b2-2" }] } });
  });

  it.each([
    ["--watch with list", ["pod", "hello", "list", "--watch"], /^corral: --watch goes with restart, replace, pause and resume \(it waits for the pod to run again\), not list$/m],
    ["an action without a pod", ["pod", "hello", "info"], /^corral: pod info needs a pod instance, e.g\. corral pod hello info hello-0$/m],
    ["list with a pod", ["pod", "hello", "list", "world-0"], /^corral: pod list takes no pod \(got world-0\); for one pod: corral pod hello info world-0$/m],
    ["an unknown action", ["pod", "hello", "bounce", "world-0"], /^corral: command-argument value 'bounce' is invalid for argument 'action'\. Allowed choices are list, info, restart, replace, pause, resume\./],
  ])("%s exits 2 without calling the scheduler", async (_case, args, stderr) => {
    const before = fake.calls.length;
    const r = await cli(args);
    expect(r.code, shown(r)).toBe(2);
    expect(r.stderr).toMatch(stderr);
    expect(fake.calls.length).toBe(before);
  });
});
