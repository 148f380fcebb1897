import { readFileSync, readdirSync } from "node:fs";
import { basename } from "node:path";
/**
 * End to end through the real composition root: `startCorral` with the simulated cluster on
 * 127.0.0.1:0, driven only by the public `corral/client` over gRPC. Waits poll GetPlan every
 * 50 ms and are bounded by vitest's test timeout (no wall-clock assertions).
 */
import * as grpc from "@grpc/grpc-js";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestContext } from "vitest";
import { startCorral } from "../../src/app.js";
import type { Corral } from "../../src/app.js";
import { resolveOptions } from "../../src/config.js";
import { tempDir } from "../use-temp-dir.js";
import { PlanAction, PutOutcome, Status, createAdminClient, fieldViolations } from "../../src/client/index.js";
import type { AdminClient, ListServicesResponse, Plan } from "../../src/client/index.js";

const EXAMPLES = new URL("../../examples/", import.meta.url);
const example = (file: string): string => readFileSync(new URL(file, EXAMPLES), "utf8");
const HELLO_WORLD = example("hello-world.yml");
const SIMPLE = example("simple.yml");

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let corral: Corral;
let admin: AdminClient;

beforeAll(async () => {
  corral = await startCorral(resolveOptions(["--listen", "127.0.0.1:0", "--cluster", "sim", "--data-dir", tempDir("e2e")], {}), pino({ level: "silent" }));
  admin = createAdminClient({ address: corral.address, defaultDeadlineMs: 10_000 });
});

afterAll(async () => {
  admin?.close();
  await corral?.stop();
});

/** One line per step: `phase/step STATUS [message] tasks`, for failure messages. */
function describePlan(plan: Plan | undefined): string {
  if (plan === undefined) return "(no plan returned)";
  const lines = [`plan ${plan.name} ${Status[plan.status]}${plan.errors.length ? ` errors=${JSON.stringify(plan.errors)}` : ""}`];
  for (const phase of plan.phases) {
    lines.push(`  phase ${phase.name} ${Status[phase.status]}`);
    for (const step of phase.steps) {
      lines.push(`    step ${step.name} ${Status[step.status]} message=${JSON.stringify(step.message)} tasks=${JSON.stringify(step.taskIds)}`);
    }
  }
  return lines.join("\n");
}

/**
 * Polls GetPlan(name, deploy) every 50 ms until COMPLETE. Gives up only when vitest aborts the
 * test (timeout); the last plan seen is printed when the test fails.
 */
/**
 * Polls the deploy plan until COMPLETE. With `continues`, a plan WAITING for the operator (a
 * canary phase) is continued, at most that many times, as an operator would.
 */
async function waitForDeploy(ctx: TestContext, name: string, continues = 0): Promise<Plan> {
  let last: Plan | undefined;
  ctx.onTestFailed(() => {
    console.error(`[${ctx.task.name}] last deploy plan of '${name}':\n${describePlan(last)}`);
  });
  for (;;) {
    last = (await admin.getPlan({ name })).plan;
    if (last?.status === Status.COMPLETE) return last;
    if (last?.status === Status.WAITING && continues > 0) {
      continues--;
      expect((await admin.controlPlan({ name, plan: "deploy", action: PlanAction.CONTINUE })).changed).toBe(true);
    }
    if (ctx.signal.aborted) throw new Error(`deploy of '${name}' did not complete:\n${describePlan(last)}`);
    await sleep(50);
  }
}

/** What a rejected call must leave alone: names, identities and config of every service. */
function snapshot(res: ListServicesResponse): unknown {
  return res.services.map((s) => ({
    name: s.name,
    configId: s.configId,
    generation: s.generation,
    createdTime: s.createdTime,
    updatedTime: s.updatedTime,
    plans: s.plans.map((p) => ({ name: p.name, stepsTotal: p.stepsTotal })),
  }));
}

async function rejection(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  return promise.then(
    (value) => expect.fail(`expected the call to fail, got ${JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v))}`),
    (err: grpc.ServiceError) => err,
  );
}

/** Runs a call that must fail, and checks that ListServices is the same before and after. */
async function rejectedWithoutEffect(call: () => Promise<unknown>): Promise<grpc.ServiceError> {
  const before = snapshot(await admin.listServices({}));
  const err = await rejection(call());
  expect(snapshot(await admin.listServices({}))).toEqual(before);
  return err;
}

const stepsOf = (plan: Plan) => plan.phases.flatMap((p) => p.steps);

describe("corral server end to end", () => {
  it("deploys hello and team/simple to COMPLETE", async (ctx) => {
    const hello = await admin.putService({ name: "hello", spec: HELLO_WORLD });
    expect(hello.outcome).toBe(PutOutcome.CREATED);
    expect(hello.service?.name).toBe("hello");
    const simple = await admin.putService({ name: "team/simple", spec: SIMPLE });
    expect(simple.outcome).toBe(PutOutcome.CREATED);
    expect(simple.service?.name).toBe("team/simple");

    const [helloPlan, simplePlan] = await Promise.all([waitForDeploy(ctx, "hello"), waitForDeploy(ctx, "team/simple")]);

    const helloSteps = stepsOf(helloPlan);
    expect(helloSteps.map((s) => s.name)).toEqual(["hello-0:[server]", "world-0:[server]", "world-1:[server]"]);
    for (const step of helloSteps) {
      expect(step.taskIds.length, `task ids of ${step.name}`).toBeGreaterThan(0);
      for (const id of step.taskIds) expect(id.startsWith("hello__"), `task id ${id} of ${step.name}`).toBe(true);
    }
    const simpleSteps = stepsOf(simplePlan);
    expect(simpleSteps.map((s) => s.name)).toEqual(["hello-0:[server]"]);
    for (const id of simpleSteps.flatMap((s) => s.taskIds)) expect(id.startsWith("team.simple__")).toBe(true);
  });

  it("lists both services sorted by name", async () => {
    const { services } = await admin.listServices({});
    expect(services.map((s) => s.name)).toEqual(["hello", "team/simple"]);
  });

  it("answers UNCHANGED to the same PutService again and changes nothing", async () => {
    const listBefore = await admin.listServices({});
    const before = (await admin.getService({ name: "hello" })).service;
    const again = await admin.putService({ name: "hello", spec: HELLO_WORLD });
    expect(again.outcome).toBe(PutOutcome.UNCHANGED);
    const after = (await admin.getService({ name: "hello" })).service;
    expect(after?.configId).toBe(before?.configId);
    expect(after?.generation).toBe(before?.generation);
    expect(after?.updatedTime).toEqual(before?.updatedTime);
    expect(snapshot(await admin.listServices({}))).toEqual(snapshot(listBefore));
  });

  describe("rejects bad input with exact status codes and changes nothing", () => {
    it.each(["Bad_Name", "a__b", "a.b", "a".repeat(64)])("bad name %j → INVALID_ARGUMENT naming `name`", async (name) => {
      const err = await rejectedWithoutEffect(() => admin.putService({ name, spec: HELLO_WORLD }));
      expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(err.details).toMatch(/(^|; )name: /);
      const fields = fieldViolations(err).map((v) => v.field);
      expect(fields.length).toBeGreaterThan(0);
      expect(new Set(fields)).toEqual(new Set(["name"]));
    });

    it("spec name differing from the request name → INVALID_ARGUMENT naming `spec.name`", async () => {
      const spec = SIMPLE.replace("{{SERVICE_NAME}}", "someone-else");
      const err = await rejectedWithoutEffect(() => admin.putService({ name: "mine", spec }));
      expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(err.details).toContain("spec.name");
      expect(fieldViolations(err).map((v) => v.field)).toContain("spec.name");
    });

    it("unset template variable → INVALID_ARGUMENT naming the variable", async () => {
      const spec = SIMPLE.replace("cpus: 0.1", "cpus: {{TASK_CPUS}}");
      expect(spec).not.toBe(SIMPLE);
      const err = await rejectedWithoutEffect(() => admin.putService({ name: "templated", spec }));
      expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(err.details).toContain("TASK_CPUS");
      expect(fieldViolations(err).map((v) => v.field)).toContain("parameters.TASK_CPUS");
    });

    it("YAML syntax error → INVALID_ARGUMENT", async () => {
      const spec = "name: {{SERVICE_NAME}}\npods:\n  hello: [count: 1\n    tasks: {\n";
      const err = await rejectedWithoutEffect(() => admin.putService({ name: "broken-yaml", spec }));
      expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    });

    it("a different spec for an existing name → FAILED_PRECONDITION", async () => {
      const before = (await admin.getService({ name: "hello" })).service;
      const err = await rejectedWithoutEffect(() => admin.putService({ name: "hello", spec: SIMPLE }));
      expect(err.code).toBe(grpc.status.FAILED_PRECONDITION);
      const after = (await admin.getService({ name: "hello" })).service;
      expect(after?.configId).toBe(before?.configId);
      expect(after?.generation).toBe(before?.generation);
    });

    it("GetService of an unknown service → NOT_FOUND", async () => {
      const err = await rejectedWithoutEffect(() => admin.getService({ name: "nobody" }));
      expect(err.code).toBe(grpc.status.NOT_FOUND);
    });

    it("GetPlan of an unknown service → NOT_FOUND", async () => {
      const err = await rejectedWithoutEffect(() => admin.getPlan({ name: "nobody" }));
      expect(err.code).toBe(grpc.status.NOT_FOUND);
    });

    it("GetPlan of an unknown plan → NOT_FOUND", async () => {
      const err = await rejectedWithoutEffect(() => admin.getPlan({ name: "hello", plan: "no-such-plan" }));
      expect(err.code).toBe(grpc.status.NOT_FOUND);
    });

    it("UninstallService of an unknown service → NOT_FOUND", async () => {
      const err = await rejectedWithoutEffect(() => admin.uninstallService({ name: "nobody" }));
      expect(err.code).toBe(grpc.status.NOT_FOUND);
    });

    it("UninstallService with a bad name → INVALID_ARGUMENT naming the field", async () => {
      const err = await rejectedWithoutEffect(() => admin.uninstallService({ name: "Bad__Name" }));
      expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(err.details).toMatch(/^name: /);
    });
  });
});

/** Continues an operator gives an example's deploy plan: a canary phase waits for two each. */
const OPERATOR_CONTINUES: Readonly<Record<string, number>> = { "canary.yml": 4 };

describe("every example deploys with no parameters (and canary ones with the operator's continues)", () => {
  const files = readdirSync(EXAMPLES)
    .filter((f) => f.endsWith(".yml"))
    .sort();

  it("finds the examples", () => {
    expect(files).toEqual(expect.arrayContaining(["canary.yml", "finish-once.yml", "hello-world.yml", "multistep.yml", "simple.yml"]));
  });

  it.for(files)("examples/%s reaches deploy COMPLETE", async (file, ctx) => {
    const name = `examples/${basename(file, ".yml")}`;
    const res = await admin.putService({ name, spec: example(file) });
    expect(res.outcome).toBe(PutOutcome.CREATED);
    const continues = OPERATOR_CONTINUES[file] ?? 0;
    if (continues > 0) {
      // Nothing starts before the first continue.
      await sleep(300);
      expect((await admin.getPlan({ name })).plan?.status).toBe(Status.WAITING);
    }
    const plan = await waitForDeploy(ctx, name, continues);
    expect(stepsOf(plan).every((s) => s.status === Status.COMPLETE)).toBe(true);
  });
});
