/**
 * PutService's reconfiguration fields over a real grpc-js server with a scripted AdminApi:
 * `expected_generation` keeps its presence (unset, 0, N), `dry_run` reaches the API, the change
 * summary comes back whole, and ABORTED / FAILED_PRECONDITION carry what the engine said.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminServer } from "../src/adapters/grpc/server.js";
import { PutOutcome, Status, Strategy, createAdminClient, fieldViolations } from "../src/client/index.js";
import type { AdminClient } from "../src/client/index.js";
import { SchedulerError } from "../src/domain/errors.js";
import type {
  AdminApi,
  PlanView,
  PutServiceInput,
  PutServiceResult,
  ServiceChangeView,
  ServiceView,
} from "../src/engine/admin-api.js";

const COUNT_VIOLATION = {
  field: "spec.pods.hello.count",
  reason: "count 1 is below the running 2; set allow-decommission: true on pod hello to remove instances",
};

const PLAN: PlanView = {
  name: "deploy",
  status: "IN_PROGRESS",
  strategy: "serial",
  errors: [],
  phases: [
    {
      id: "p1",
      name: "hello",
      status: "IN_PROGRESS",
      strategy: "serial",
      steps: [
        { id: "s1", name: "hello-0:[server]", status: "PENDING", message: "", taskIds: [] },
        { id: "s2", name: "hello-1:[server]", status: "COMPLETE", message: "", taskIds: ["t2"] },
      ],
    },
  ],
};

const CHANGE: ServiceChangeView = {
  relaunched: ["hello-0"],
  added: ["hello-2"],
  decommissioned: ["world-1"],
  plan: PLAN,
  violations: [],
};

function service(name: string, generation: number): ServiceView {
  return { name, state: "DEPLOYING", configId: "cfg", generation, plans: [], createdMs: 0, updatedMs: 0 };
}

/** Answers by service name; records every input the edge built. */
class ScriptedApi implements Pick<AdminApi, "putService"> {
  readonly inputs: PutServiceInput[] = [];

  async putService(input: PutServiceInput): Promise<PutServiceResult> {
    this.inputs.push(input);
    switch (input.name) {
      case "raced":
        throw new SchedulerError("aborted", `service raced is at generation 3, not ${input.expectedGeneration}`);
      case "shrunk":
        throw new SchedulerError("failed_precondition", "the change is refused", { violations: [COUNT_VIOLATION] });
      case "unchanged":
        return { service: service(input.name, 2), outcome: "UNCHANGED", warnings: [] };
      case "refused-dry":
        return {
          service: service(input.name, 2),
          outcome: "UNCHANGED",
          warnings: [],
          change: { relaunched: [], added: [], decommissioned: [], violations: [COUNT_VIOLATION] },
          dryRun: true,
        };
      default:
        return {
          service: service(input.name, input.dryRun === true ? 2 : 3),
          outcome: "UPDATED",
          warnings: [],
          change: CHANGE,
          ...(input.dryRun === true ? { dryRun: true } : {}),
        };
    }
  }
}

const unused = (): never => {
  throw new SchedulerError("unimplemented", "not scripted");
};
const api = new ScriptedApi();
const adminApi: AdminApi = {
  putService: (input) => api.putService(input),
  uninstallService: unused,
  watchUninstall: unused,
  listServices: unused,
  getService: unused,
  getPlan: unused,
  getScheduler: unused,
};
const server = new AdminServer({ api: adminApi, logger: pino({ level: "silent" }) });
let port = 0;
let admin: AdminClient;

beforeAll(async () => {
  ({ port } = await server.listen("127.0.0.1:0"));
  admin = createAdminClient({ address: `127.0.0.1:${port}`, defaultDeadlineMs: 5000 });
});

afterAll(async () => {
  admin.close();
  await server.stop(3000);
});

async function rejection(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  return promise.then(
    () => expect.fail("expected the call to fail"),
    (err: grpc.ServiceError) => err,
  );
}

describe("PutService reconfiguration fields", () => {
  it.each([
    { name: "unset: no check", sent: {}, expected: undefined },
    { name: "0: the service must not exist", sent: { expectedGeneration: 0n }, expected: 0 },
    { name: "a generation", sent: { expectedGeneration: 7n }, expected: 7 },
    { name: "the largest exact one", sent: { expectedGeneration: 2n ** 53n - 1n }, expected: 2 ** 53 - 1 },
  ])("passes expected_generation $name", async ({ sent, expected }) => {
    await admin.putService({ name: "svc", spec: "s", ...sent });
    const input = api.inputs.at(-1)!;
    expect(input.expectedGeneration).toBe(expected);
    expect("expectedGeneration" in input).toBe(expected !== undefined);
    expect(input.dryRun).toBeUndefined();
  });

  it("refuses an expected_generation no generation can reach, naming the field", async () => {
    const before = api.inputs.length;
    const err = await rejection(admin.putService({ name: "svc", spec: "s", expectedGeneration: 2n ** 64n - 1n }));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(fieldViolations(err)).toEqual([
      { field: "expected_generation", reason: "must be at most 9007199254740991 (got 18446744073709551615)" },
    ]);
    expect(api.inputs.length).toBe(before);
  });

  it("maps an update's change: relaunched, added, decommissioned pod instances and the plan", async () => {
    const res = await admin.putService({ name: "svc", spec: "s" });
    expect(res.outcome).toBe(PutOutcome.UPDATED);
    expect(res.dryRun).toBe(false);
    expect(res.change).toMatchObject({ relaunched: ["hello-0"], added: ["hello-2"], decommissioned: ["world-1"], violations: [] });
    expect(res.change?.plan).toMatchObject({ name: "deploy", status: Status.IN_PROGRESS, strategy: Strategy.SERIAL });
    expect(res.change?.plan?.phases[0]?.steps.map((s) => [s.name, s.status])).toEqual([
      ["hello-0:[server]", Status.PENDING],
      ["hello-1:[server]", Status.COMPLETE],
    ]);
  });

  it("passes dry_run and says the answer is one", async () => {
    const res = await admin.putService({ name: "svc", spec: "s", dryRun: true, expectedGeneration: 2n });
    expect(api.inputs.at(-1)).toMatchObject({ dryRun: true, expectedGeneration: 2 });
    expect(res.dryRun).toBe(true);
    expect(res.service?.generation).toBe(2n);
    expect(res.change?.relaunched).toEqual(["hello-0"]);
  });

  it("returns a dry run's violations in the change, without a plan", async () => {
    const res = await admin.putService({ name: "refused-dry", spec: "s", dryRun: true });
    expect(res.dryRun).toBe(true);
    expect(res.change?.violations).toEqual([expect.objectContaining(COUNT_VIOLATION)]);
    expect(res.change?.plan).toBeUndefined();
  });

  it("leaves the change unset when the engine reports none", async () => {
    const res = await admin.putService({ name: "unchanged", spec: "s" });
    expect(res.outcome).toBe(PutOutcome.UNCHANGED);
    expect(res.change).toBeUndefined();
  });

  it("answers ABORTED when the generation differs", async () => {
    const err = await rejection(admin.putService({ name: "raced", spec: "s", expectedGeneration: 2n }));
    expect(err.code).toBe(grpc.status.ABORTED);
    expect(err.details).toBe("service raced is at generation 3, not 2");
  });

  it("answers FAILED_PRECONDITION for a refused change, listing the violations in the trailer", async () => {
    const err = await rejection(admin.putService({ name: "shrunk", spec: "s" }));
    expect(err.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(fieldViolations(err)).toEqual([COUNT_VIOLATION]);
  });

  it("takes the new fields through reflection (buf curl, proto3 JSON)", async () => {
    const { stdout } = await promisify(execFile)(
      "node_modules/.bin/buf",
      [
        "curl", "--protocol", "grpc", "--http2-prior-knowledge",
        "-d", '{"name":"svc","spec":"s","expectedGeneration":"0","dryRun":true}',
        `http://127.0.0.1:${port}/corral.v1.MultiServiceAdmin/PutService`,
      ],
      { timeout: 20_000 },
    );
    expect(api.inputs.at(-1)).toMatchObject({ name: "svc", expectedGeneration: 0, dryRun: true });
    const body = JSON.parse(stdout) as Record<string, unknown>;
    expect(body).toMatchObject({ dryRun: true, change: { relaunched: ["hello-0"], decommissioned: ["world-1"] } });
  });
});
