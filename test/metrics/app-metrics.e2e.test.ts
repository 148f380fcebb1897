/**
 * /metrics of the real app: startCorral with the simulated cluster, the memory store and
 * `--metrics-listen 127.0.0.1:0`, driven over gRPC by the public client, then scraped as
 * Prometheus would. Waits poll GetPlan every 50 ms, bounded by vitest's timeout (no time asserted).
 */
import { createServer } from "node:net";
import { pino } from "pino";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCorral } from "../../src/app.js";
import type { Corral } from "../../src/app.js";
import { resolveOptions } from "../../src/config.js";
import { SchedulerError } from "../../src/domain/errors.js";
import { Status, createAdminClient } from "../../src/client/index.js";
import type { AdminClient } from "../../src/client/index.js";
import { tempDir } from "../use-temp-dir.js";
import { parseExposition, samplesOf, valueOf } from "./exposition.js";
import type { Sample } from "./exposition.js";

const SIMPLE = readFileSync(new URL("../../examples/simple.yml", import.meta.url), "utf8");
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let corral: Corral;
let admin: AdminClient;

beforeAll(async () => {
  const args = ["--listen", "127.0.0.1:0", "--cluster", "sim", "--store", "memory", "--data-dir", tempDir("metrics-e2e"), "--metrics-listen", "127.0.0.1:0"];
  corral = await startCorral(resolveOptions(args, {}), pino({ level: "silent" }));
  admin = createAdminClient({ address: corral.address, defaultDeadlineMs: 10_000 });
});

afterAll(async () => {
  admin?.close();
  await corral?.stop();
});

async function scrape(): Promise<{ samples: Sample[]; contentType: string | null }> {
  const res = await fetch(`http://${corral.metricsAddress!}/metrics`);
  expect(res.status).toBe(200);
  return { samples: parseExposition(await res.text()), contentType: res.headers.get("content-type") };
}

describe("metrics of a running scheduler", () => {
  it("shows the deployment of a put service: offers, operations, statuses, calls, store latency, services, plans, leadership", async (ctx) => {
    expect(corral.metricsAddress).toMatch(/^127\.0\.0\.1:\d+$/);
    await admin.putService({ name: "web", spec: SIMPLE });
    while ((await admin.getPlan({ name: "web" })).plan?.status !== Status.COMPLETE) {
      if (ctx.signal.aborted) throw new Error("the deploy of web did not complete");
      await sleep(50);
    }
    await admin.getService({ name: "nobody" }).catch(() => undefined);

    const { samples: s, contentType } = await scrape();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const value = (name: string, labels: Record<string, string> = {}): number => valueOf(s, name, labels) ?? Number.NaN;
    expect(value("corral_offers_total", { outcome: "received" })).toBeGreaterThan(0);
    expect(value("corral_offers_total", { outcome: "used" })).toBeGreaterThan(0);
    expect(value("corral_operations_total", { type: "LAUNCH_GROUP" })).toBeGreaterThan(0);
    expect(value("corral_operations_total", { type: "RESERVE" })).toBeGreaterThan(0);
    expect(value("corral_task_status_updates_total", { state: "TASK_RUNNING" })).toBeGreaterThan(0);
    expect(value("corral_grpc_requests_total", { method: "PutService", code: "OK" })).toBe(1);
    expect(value("corral_grpc_requests_total", { method: "GetService", code: "NOT_FOUND" })).toBe(1);
    expect(value("corral_grpc_requests_total", { method: "GetPlan", code: "OK" })).toBeGreaterThan(0);
    expect(value("corral_grpc_request_duration_seconds_count", { method: "PutService" })).toBe(1);
    expect(value("corral_store_op_duration_seconds_count", { op: "multi" })).toBeGreaterThan(0);
    expect(value("corral_store_op_duration_seconds_count", { op: "get" })).toBeGreaterThan(0);
    expect(value("corral_services", { state: "RUNNING" })).toBe(1);
    expect(value("corral_services", { state: "DEPLOYING" })).toBe(0);
    expect(value("corral_plans", { service: "web", plan: "deploy", status: "COMPLETE" })).toBe(1);
    expect(value("corral_plan_steps", { status: "COMPLETE" })).toBe(1);
    expect(value("corral_leader")).toBe(1);
    expect(value("corral_replica_role", { role: "leader" })).toBe(1);
    expect(samplesOf(s, "process_resident_memory_bytes")).toHaveLength(1);
  });
});

describe("--metrics-listen given on purpose", () => {
  it("refuses the start when its address is in use, in one line naming it and the flag", async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen({ host: "127.0.0.1", port: 0 }, r));
    const taken = `127.0.0.1:${(blocker.address() as { port: number }).port}`;
    try {
      const args = ["--listen", "127.0.0.1:0", "--cluster", "sim", "--store", "memory", "--data-dir", tempDir("metrics-taken"), "--metrics-listen", taken];
      const err = await startCorral(resolveOptions(args, {}), pino({ level: "silent" })).then(
        async (c) => {
          await c.stop();
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(SchedulerError);
      expect(err).toMatchObject({ code: "failed_precondition", message: `cannot listen on ${taken}: address already in use (choose another with --metrics-listen)` });
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });
});
