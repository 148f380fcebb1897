/**
 * `corral put` reconfiguring a service, against a scripted MultiServiceAdmin (fake-admin.ts):
 * the change summary of an update, `--dry-run` (the plan it would run, or why it would be
 * refused; nothing stored), `--expect-generation` (sent with presence; ABORTED is exit 6), and a
 * refused change (FAILED_PRECONDITION) listing every violation.
 */
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VIOLATIONS_METADATA_KEY } from "../../src/adapters/grpc/status.js";
import { PutOutcome, ServiceState, Status, Strategy } from "../../src/client/index.js";
import type { PutServiceRequest } from "../../src/client/index.js";
import { startFakeAdmin } from "./fake-admin.js";
import type { FakeAdmin } from "./fake-admin.js";
import { runCli, shown } from "./run-cli.js";
import type { CliResult } from "./run-cli.js";

const COUNT_VIOLATION = {
  field: "spec.pods.hello.count",
  reason: "count 1 is below the running 2; set allow-decommission: true on pod hello to remove instances",
};
const USER_VIOLATION = { field: "spec.pods.world.user", reason: "user 'nobody' differs from the running 'root' of pod world" };

const step = (name: string, status: Status) => ({ id: name, name, status, message: "" });
const PLAN = {
  name: "deploy",
  status: Status.IN_PROGRESS,
  strategy: Strategy.SERIAL,
  phases: [
    { id: "p1", name: "hello", status: Status.COMPLETE, strategy: Strategy.SERIAL, steps: [step("hello-0:[server]", Status.COMPLETE)] },
    { id: "p2", name: "world", status: Status.PENDING, strategy: Strategy.SERIAL, steps: [step("world-0:[server]", Status.PENDING), step("world-1:[server]", Status.PENDING)] },
  ],
};
const CHANGE = { relaunched: ["world-0", "world-1"], added: [], decommissioned: ["hello-1"], plan: PLAN, violations: [] };

let fake: FakeAdmin;
const requests: PutServiceRequest[] = [];
const cli = (args: readonly string[]): Promise<CliResult> => runCli(args, { server: fake.address });

function failure(code: grpc.status, details: string, violations: object[] = []): grpc.ServiceError {
  const metadata = new grpc.Metadata();
  if (violations.length > 0) metadata.set(VIOLATIONS_METADATA_KEY, JSON.stringify(violations));
  return Object.assign(new Error(details), { code, details, metadata });
}

beforeAll(async () => {
  fake = await startFakeAdmin({
    putService: (call: grpc.ServerUnaryCall<PutServiceRequest, object>, cb: grpc.sendUnaryData<object>) => {
      const req = call.request;
      requests.push(req);
      const service = (generation: bigint) => ({ name: req.name, state: ServiceState.DEPLOYING, generation });
      if (req.name === "raced") return cb(failure(grpc.status.ABORTED, `service raced is at generation 3, not ${req.expectedGeneration}`));
      if (req.name === "shrunk") return cb(failure(grpc.status.FAILED_PRECONDITION, "the change is refused", [COUNT_VIOLATION, USER_VIOLATION]));
      if (req.name === "fresh") return cb(null, { service: service(1n), outcome: PutOutcome.CREATED, dryRun: req.dryRun });
      if (req.dryRun && req.name === "refused") {
        const change = { relaunched: [], added: [], decommissioned: [], violations: [COUNT_VIOLATION, USER_VIOLATION] };
        return cb(null, { service: service(2n), outcome: PutOutcome.UNCHANGED, change, dryRun: true });
      }
      if (req.dryRun) return cb(null, { service: service(2n), outcome: PutOutcome.UPDATED, change: CHANGE, dryRun: true });
      return cb(null, { service: service(3n), outcome: PutOutcome.UPDATED, change: { ...CHANGE, added: ["hello-2"] } });
    },
  });
});

afterAll(async () => {
  await fake?.stop();
});

describe("corral put reconfiguring a service", () => {
  it("prints what an update changes: pod instances relaunched, added, decommissioned, and the plan in one line", async () => {
    const r = await cli(["put", "hello", "examples/hello-world.yml"]);
    expect(r.code, shown(r)).toBe(0);
    expect(r.stdout).toBe(
      [
        "hello: UPDATED (generation 3, DEPLOYING)",
        "  relaunched:     world-0, world-1",
        "  added:          hello-2",
        "  decommissioned: hello-1",
        "  plan deploy IN_PROGRESS: 2 of 3 steps to run (1 already COMPLETE)",
        "",
      ].join("\n"),
    );
    expect(requests.at(-1)).toMatchObject({ name: "hello", dryRun: false });
    expect(requests.at(-1)?.expectedGeneration).toBeUndefined();
  });

  it("--dry-run prints the plan it would run and says nothing was stored", async () => {
    const r = await cli(["put", "hello", "examples/hello-world.yml", "--dry-run"]);
    expect(r.code, shown(r)).toBe(0);
    expect(r.stdout).toBe(
      [
        "hello: dry run: would be UPDATED (nothing was stored, generation 2)",
        "  relaunched:     world-0, world-1",
        "  added:          none",
        "  decommissioned: hello-1",
        "",
        "would run plan deploy: IN_PROGRESS (SERIAL)",
        "",
        "PHASE  STEP              STATUS    MESSAGE",
        "hello  hello-0:[server]  COMPLETE",
        "world  world-0:[server]  PENDING",
        "world  world-1:[server]  PENDING",
        "",
      ].join("\n"),
    );
    expect(requests.at(-1)).toMatchObject({ name: "hello", dryRun: true });
  });

  it("--dry-run of a change that would be refused lists every reason and exits 1", async () => {
    const r = await cli(["put", "refused", "examples/hello-world.yml", "--dry-run"]);
    expect(r.code, shown(r)).toBe(1);
    expect(r.stdout).toBe(
      [
        "refused: dry run: the change would be refused (nothing was stored, generation 2):",
        `  spec.pods.hello.count: ${COUNT_VIOLATION.reason}`,
        `  spec.pods.world.user: ${USER_VIOLATION.reason}`,
        "",
      ].join("\n"),
    );
    expect(r.stderr).toBe("corral: the change to refused would be refused (2 violations); nothing was stored\n");
  });

  it("--dry-run of a new service says it would be created", async () => {
    const r = await cli(["put", "fresh", "examples/hello-world.yml", "--dry-run"]);
    expect(r.code, shown(r)).toBe(0);
    expect(r.stdout).toBe("fresh: dry run: would be CREATED (nothing was stored, generation 1)\n");
  });

  it("--dry-run --json prints the response, dryRun and change included", async () => {
    const r = await cli(["put", "hello", "examples/hello-world.yml", "--dry-run", "--json"]);
    expect(r.code, shown(r)).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      dryRun: true,
      outcome: "PUT_OUTCOME_UPDATED",
      change: { relaunched: ["world-0", "world-1"], added: [], decommissioned: ["hello-1"], plan: { name: "deploy" } },
    });
  });

  it.each([
    { flag: ["--expect-generation", "0"], sent: 0n },
    { flag: ["--expect-generation", "4"], sent: 4n },
    { flag: ["--expect-generation=18446744073709551615"], sent: 2n ** 64n - 1n },
  ])("--expect-generation sends the generation, 0 included ($flag)", async ({ flag, sent }) => {
    const r = await cli(["put", "hello", "examples/hello-world.yml", ...flag]);
    expect(r.code, shown(r)).toBe(0);
    expect(requests.at(-1)?.expectedGeneration).toBe(sent);
  });

  it("ABORTED (another put came first) exits 6 and says nothing changed", async () => {
    const r = await cli(["put", "raced", "examples/hello-world.yml", "--expect-generation", "2"]);
    expect(r.code, shown(r)).toBe(6);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      "corral: PutService was aborted (ABORTED): service raced is at generation 3, not 2\n" +
        "  someone changed the service meanwhile: look at it again (corral get) and retry\n",
    );
  });

  it("a refused change (FAILED_PRECONDITION) lists every violation, one per line, and exits 1", async () => {
    const r = await cli(["put", "shrunk", "examples/hello-world.yml"]);
    expect(r.code, shown(r)).toBe(1);
    expect(r.stderr).toBe(
      [
        "corral: PutService refused the change (FAILED_PRECONDITION); nothing was changed:",
        `  spec.pods.hello.count: ${COUNT_VIOLATION.reason}`,
        `  spec.pods.world.user: ${USER_VIOLATION.reason}`,
        "",
      ].join("\n"),
    );
  });

  it.each([
    { args: ["--dry-run", "--watch"], says: /cannot be used with option '-w, --watch'/ },
    { args: ["--expect-generation", "-1"], says: /must be a non-negative integer/ },
    { args: ["--expect-generation", "two"], says: /must be a non-negative integer/ },
  ])("refuses $args before calling anything (exit 2)", async ({ args, says }) => {
    const before = requests.length;
    const r = await cli(["put", "hello", "examples/hello-world.yml", ...args]);
    expect(r.code, shown(r)).toBe(2);
    expect(r.stderr).toMatch(says);
    expect(requests.length).toBe(before);
  });

  it("--help documents --dry-run, --expect-generation and exit code 6", async () => {
    const put = await cli(["put", "--help"]);
    expect(put.stdout).toContain("--dry-run");
    expect(put.stdout).toContain("--expect-generation <n>");
    const top = await cli(["--help"]);
    expect(top.stdout).toMatch(/^ {2}6 {4}ABORTED: put --expect-generation N/m);
  });
});
