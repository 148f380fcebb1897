/**
 * End to end over a real grpc-js server on 127.0.0.1:0: the AdminServer with a fake AdminApi,
 * driven by the public `corral/client` and by `buf curl` through server reflection.
 */
import { execFile } from "node:child_process";
import { Writable } from "node:stream";
import { promisify } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { AdminServer } from "../src/adapters/grpc/server.js";
import {
  Health,
  HealthCheckResponse_ServingStatus,
  PutOutcome,
  ServiceState,
  Status,
  SchedulerState,
  ServiceMode,
  Strategy,
  UninstallEventKind,
  createAdminClient,
  createPromiseClient,
  fieldViolations,
} from "../src/client/index.js";
import type { AdminClient, PromiseClient } from "../src/client/index.js";
import { SchedulerError } from "../src/domain/errors.js";
import type { AdminApi, PlanView, ServiceView, UninstallEventView } from "../src/engine/admin-api.js";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function service(name: string, generation = 1): ServiceView {
  return {
    name,
    state: "RUNNING",
    configId: `cfg-${name}`,
    generation,
    plans: [{ name: "deploy", status: "COMPLETE", stepsComplete: 2, stepsTotal: 2 }],
    createdMs: 1_700_000_000_000,
    updatedMs: 1_700_000_000_500,
  };
}

function event(name: string, sequence: bigint, kind: UninstallEventView["kind"]): UninstallEventView {
  const leftovers = kind === "FORCED" ? ["task-1"] : [];
  return { sequence, name, kind, timeMs: 1_700_000_001_000, stepsComplete: 1, stepsTotal: 3, leftovers, message: kind };
}

/** Scripted by service name; records what the edge passed in. */
class FakeAdminApi implements AdminApi {
  readonly planRequests: string[] = [];
  readonly watchSignals: AbortSignal[] = [];

  async putService(input: { name: string; spec: string; parameters: Readonly<Record<string, string>> }) {
    if (input.name === "slow") await sleep(1500);
    if (input.name === "crash") throw new TypeError("Cannot read properties of undefined (reading 'pods')");
    if (input.name === "BAD") throw SchedulerError.invalid([{ field: "name", reason: "must be lowercase" }]);
    return {
      service: { ...service(input.name, Object.keys(input.parameters).length), error: input.spec },
      outcome: "UPDATED" as const,
      warnings: [{ field: "pods.hello.placement", message: `accepted, not acted upon: ${input.parameters["A"]}` }],
    };
  }
  async uninstallService(): Promise<ServiceView> {
    throw new SchedulerError("unimplemented", "uninstall is not implemented yet");
  }
  async *watchUninstall(names: readonly string[], after: bigint, signal: AbortSignal) {
    this.watchSignals.push(signal);
    const name = names[0] ?? "all";
    yield event(name, after + 1n, "STARTED");
    if (name === "many") {
      for (let i = 2n; i <= 3000n; i++) yield { ...event(name, i, "PROGRESS"), message: "m".repeat(1024) };
      return;
    }
    if (name === "forever") {
      await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
      return;
    }
    yield event(name, after + 2n, "PROGRESS");
    yield event(name, after + 3n, "FORCED");
  }
  listServices(): readonly ServiceView[] {
    return [service("a"), service("b")];
  }
  getService(name: string): ServiceView {
    if (name === "missing") throw new SchedulerError("not_found", `service "${name}" not found`);
    return service(name);
  }
  getPlan(name: string, plan: string): PlanView {
    this.planRequests.push(plan);
    const step = { id: "s1", name: "hello-0:[server]", status: "STARTED" as const, message: "", taskIds: ["t1"] };
    const phase = { id: "p1", name: "hello", status: "IN_PROGRESS" as const, strategy: "serial-canary" as const, steps: [step] };
    return { name: plan || "deploy", status: "IN_PROGRESS", strategy: "parallel", phases: [phase], errors: [name] };
  }
  getScheduler() {
    return { state: "UNINSTALLING" as const, services: 3, uninstalling: 2, lastUninstallEvent: 7n, serviceMode: "dynamic" as const, schemaVersion: 2 as const };
  }
}

const logLines: Array<Record<string, unknown>> = [];
const logSink = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const line of chunk.toString().split("\n").filter(Boolean)) logLines.push(JSON.parse(line));
    done();
  },
});

const api = new FakeAdminApi();
const server = new AdminServer({ api, logger: pino({ level: "info" }, logSink), maxReceiveMessageBytes: 64 * 1024 });
let port = 0;
let admin: AdminClient;
let health: PromiseClient<typeof Health>;

beforeAll(async () => {
  ({ port } = await server.listen("127.0.0.1:0"));
  admin = createAdminClient({ address: `127.0.0.1:${port}`, defaultDeadlineMs: 5000 });
  health = createPromiseClient(Health, `127.0.0.1:${port}`, grpc.credentials.createInsecure());
});

afterAll(async () => {
  admin.close();
  health.close();
  await server.stop(3000);
  // Every call finished or was cancelled: the graceful path did not time out.
  expect(logLines.filter((l) => String(l["msg"]).includes("timed out"))).toEqual([]);
});

async function rejection(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  return promise.then(
    () => expect.fail("expected the call to fail"),
    (err: grpc.ServiceError) => err,
  );
}

describe("MultiServiceAdmin over gRPC", () => {
  it("round-trips PutService: map parameters, enums, bigint, timestamps, warnings", async () => {
    const res = await admin.putService({ name: "team/db", spec: "name: db", parameters: { A: "1", B: "2" } });
    expect(res.outcome).toBe(PutOutcome.UPDATED);
    expect(res.service?.name).toBe("team/db");
    expect(res.service?.state).toBe(ServiceState.RUNNING);
    expect(res.service?.generation).toBe(2n);
    expect(res.service?.error).toBe("name: db");
    expect(res.service?.plans[0]).toMatchObject({ name: "deploy", status: Status.COMPLETE, stepsComplete: 2 });
    expect(res.service?.createdTime).toMatchObject({ seconds: 1_700_000_000n, nanos: 0 });
    expect(res.service?.updatedTime).toMatchObject({ seconds: 1_700_000_000n, nanos: 500_000_000 });
    expect(res.warnings).toEqual([
      expect.objectContaining({ field: "pods.hello.placement", message: "accepted, not acted upon: 1" }),
    ]);
  });

  it("leaves GetPlan's default plan to the scheduler (deploy, or uninstall while removing) and maps strategies", async () => {
    const { plan } = await admin.getPlan({ name: "x" });
    expect(api.planRequests.at(-1)).toBe("");
    expect(plan).toMatchObject({ name: "deploy", status: Status.IN_PROGRESS, strategy: Strategy.PARALLEL });
    expect(plan?.phases[0]).toMatchObject({ strategy: Strategy.SERIAL_CANARY, status: Status.IN_PROGRESS });
    expect(plan?.phases[0]?.steps[0]).toMatchObject({ name: "hello-0:[server]", status: Status.STARTED, taskIds: ["t1"] });
    await admin.getPlan({ name: "x", plan: "recovery" });
    expect(api.planRequests.at(-1)).toBe("recovery");
  });

  it("reports the scheduler's own state", async () => {
    expect(await admin.getScheduler({})).toMatchObject({ state: SchedulerState.UNINSTALLING, services: 3, uninstalling: 2, lastUninstallEvent: 7n, serviceMode: ServiceMode.DYNAMIC, schemaVersion: 2 });
  });

  it("lists services", async () => {
    const { services } = await admin.listServices({});
    expect(services.map((s) => s.name)).toEqual(["a", "b"]);
  });

  it("surfaces invalid_argument as INVALID_ARGUMENT naming the field", async () => {
    const err = await rejection(admin.putService({ name: "BAD", spec: "" }));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toContain("name: must be lowercase");
    expect(fieldViolations(err)).toEqual([{ field: "name", reason: "must be lowercase" }]);
  });

  it("surfaces not_found as NOT_FOUND and unimplemented as UNIMPLEMENTED", async () => {
    const notFound = await rejection(admin.getService({ name: "missing" }));
    expect(notFound.code).toBe(grpc.status.NOT_FOUND);
    expect(notFound.details).toBe('service "missing" not found');
    const unimplemented = await rejection(admin.uninstallService({ name: "x" }));
    expect(unimplemented.code).toBe(grpc.status.UNIMPLEMENTED);
  });

  it("turns a thrown TypeError into INTERNAL without leaking it, and logs it with the request id", async () => {
    const metadata = new grpc.Metadata();
    metadata.set("x-request-id", "req-crash-1");
    const err = await rejection(admin.putService({ name: "crash" }, { metadata }));
    expect(err.code).toBe(grpc.status.INTERNAL);
    expect(err.details).toBe("internal error (request id req-crash-1)");
    const logged = logLines.filter((l) => l["requestId"] === "req-crash-1");
    expect(logged.some((l) => (l["err"] as { type?: string } | undefined)?.type === "TypeError")).toBe(true);
    expect(logged.filter((l) => l["msg"] === "rpc")).toEqual([
      expect.objectContaining({ method: "PutService", code: "INTERNAL", durationMs: expect.any(Number) }),
    ]);
  });

  it("rejects requests over maxReceiveMessageBytes with RESOURCE_EXHAUSTED", async () => {
    const err = await rejection(admin.putService({ name: "big", spec: "x".repeat(128 * 1024) }));
    expect(err.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
  });

  it("fails with DEADLINE_EXCEEDED when the deadline passes", async () => {
    const err = await rejection(admin.putService({ name: "slow" }, { deadlineMs: 100 }));
    expect(err.code).toBe(grpc.status.DEADLINE_EXCEEDED);
  });
});

describe("WatchUninstall stream", () => {
  it("streams every event and ends", async () => {
    const events = [];
    for await (const { event } of admin.watchUninstall({ names: ["db"], after: 10n })) events.push(event);
    expect(events.map((e) => [e?.sequence, e?.kind])).toEqual([
      [11n, UninstallEventKind.STARTED],
      [12n, UninstallEventKind.PROGRESS],
      [13n, UninstallEventKind.FORCED],
    ]);
    expect(events[2]?.leftovers).toEqual(["task-1"]);
    expect(events[0]?.time).toMatchObject({ seconds: 1_700_000_001n });
  });

  it("delivers a long stream in order under backpressure", async () => {
    let expected = 1n;
    for await (const { event } of admin.watchUninstall({ names: ["many"] })) {
      expect(event?.sequence).toBe(expected++);
      if (expected % 500n === 0n) await sleep(20);
    }
    expect(expected).toBe(3001n);
  });

  it("aborts the API's signal when the client cancels", async () => {
    const controller = new AbortController();
    const seen: bigint[] = [];
    const consume = async (): Promise<void> => {
      for await (const { event } of admin.watchUninstall({ names: ["forever"] }, { signal: controller.signal })) {
        seen.push(event?.sequence ?? -1n);
        controller.abort();
      }
    };
    const err = await rejection(consume());
    expect(err.code).toBe(grpc.status.CANCELLED);
    expect(seen).toEqual([1n]);
    await vi.waitFor(() => expect(api.watchSignals.at(-1)?.aborted).toBe(true));
  });

  it("cancels the call when the consumer leaves the loop early", async () => {
    for await (const _ of admin.watchUninstall({ names: ["forever"] })) break;
    await vi.waitFor(() => expect(api.watchSignals.at(-1)?.aborted).toBe(true));
  });
});

describe("health and reflection", () => {
  it("answers Check with SERVING and follows setServing", async () => {
    expect((await health.check({})).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    server.setServing(false);
    const res = await health.check({ service: "corral.v1.MultiServiceAdmin" });
    expect(res.status).toBe(HealthCheckResponse_ServingStatus.NOT_SERVING);
    server.setServing(true);
    expect((await health.check({ service: "corral.v1.MultiServiceAdmin" })).status).toBe(
      HealthCheckResponse_ServingStatus.SERVING,
    );
  });

  const buf = (...args: string[]) =>
    promisify(execFile)("node_modules/.bin/buf", ["curl", "--protocol", "grpc", "--http2-prior-knowledge", ...args], {
      timeout: 20_000,
    });

  it("lists services through reflection (buf curl)", async () => {
    const { stdout } = await buf("--list-services", `http://127.0.0.1:${port}`);
    expect(stdout).toContain("corral.v1.MultiServiceAdmin");
    expect(stdout).toContain("grpc.health.v1.Health");
  });

  it("calls GetService through the reflected schema (buf curl)", async () => {
    const { stdout } = await buf("-d", '{"name":"x"}', `http://127.0.0.1:${port}/corral.v1.MultiServiceAdmin/GetService`);
    const body = JSON.parse(stdout) as { service: Record<string, unknown> };
    expect(body.service).toMatchObject({ name: "x", state: "SERVICE_STATE_RUNNING", generation: "1" });
    expect(body.service["createdTime"]).toBe("2023-11-14T22:13:20Z");
  });
});
