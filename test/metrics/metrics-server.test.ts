/** The /metrics endpoint: what it answers, and what happens when its address is taken. */
import { createServer } from "node:net";
import type { Server } from "node:net";
import * as grpc from "@grpc/grpc-js";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { startMetrics } from "../../src/adapters/metrics/index.js";
import type { ServedMetrics } from "../../src/adapters/metrics/index.js";
import { SchedulerError } from "../../src/domain/errors.js";
import { parseExposition, samplesOf, valueOf } from "./exposition.js";

const silent = pino({ level: "silent" });
const started: ServedMetrics[] = [];
const blockers: Server[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((m) => m.close()));
  await Promise.all(blockers.splice(0).map((b) => new Promise((r) => b.close(r))));
});

async function serve(listen = "127.0.0.1:0", explicit = true, log = silent): Promise<ServedMetrics | undefined> {
  const m = await startMetrics(listen, explicit, log);
  if (m) started.push(m);
  return m;
}

/** A port some other process holds. */
async function takenPort(): Promise<number> {
  const blocker = createServer();
  blockers.push(blocker);
  await new Promise<void>((r) => blocker.listen({ host: "127.0.0.1", port: 0 }, r));
  return (blocker.address() as { port: number }).port;
}

describe("metrics endpoint", () => {
  it("answers GET /metrics in the text format with the registry's content type, 404 elsewhere", async () => {
    const m = (await serve())!;
    m.observer.begin("PutService", {}).end(grpc.status.OK);
    m.observer.begin("PutService", {}).end(grpc.status.INVALID_ARGUMENT);
    const res = await fetch(`http://${m.address}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(m.metrics.registry.contentType);
    const samples = parseExposition(await res.text());
    expect(valueOf(samples, "corral_grpc_requests_total", { method: "PutService", code: "OK" })).toBe(1);
    expect(valueOf(samples, "corral_grpc_requests_total", { method: "PutService", code: "INVALID_ARGUMENT" })).toBe(1);
    expect(valueOf(samples, "corral_grpc_request_duration_seconds_count", { method: "PutService" })).toBe(2);
    // prom-client's default process metrics are there too
    expect(samplesOf(samples, "process_cpu_user_seconds_total")).toHaveLength(1);
    expect(samplesOf(samples, "nodejs_heap_size_used_bytes")).toHaveLength(1);

    expect((await fetch(`http://${m.address}/`)).status).toBe(404);
    expect((await fetch(`http://${m.address}/metrics/x`)).status).toBe(404);
    expect((await fetch(`http://${m.address}/metrics`, { method: "POST" })).status).toBe(404);
  });

  it("keeps each process's registry apart: two endpoints count their own calls", async () => {
    const a = (await serve())!;
    const b = (await serve())!;
    a.observer.begin("GetService", {}).end(grpc.status.NOT_FOUND);
    const count = async (m: ServedMetrics): Promise<number | undefined> =>
      valueOf(parseExposition(await (await fetch(`http://${m.address}/metrics`)).text()), "corral_grpc_requests_total", { method: "GetService", code: "NOT_FOUND" });
    expect(await count(a)).toBe(1);
    expect(await count(b)).toBeUndefined();
  });

  it("refuses to start on an address given on purpose that is in use, naming it and --metrics-listen", async () => {
    const address = `127.0.0.1:${await takenPort()}`;
    const err = await serve(address, true).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(SchedulerError);
    expect((err as SchedulerError).code).toBe("failed_precondition");
    expect((err as SchedulerError).message).toBe(`cannot listen on ${address}: address already in use (choose another with --metrics-listen)`);
  });

  it("goes on without metrics, with a warning, when the default address is in use", async () => {
    const address = `127.0.0.1:${await takenPort()}`;
    const lines: { msg: string; address?: string }[] = [];
    const log = pino({ level: "warn" }, { write: (line: string) => void lines.push(JSON.parse(line) as { msg: string }) });
    expect(await serve(address, false, log)).toBeUndefined();
    expect(lines).toHaveLength(1);
    expect(lines[0]!.address).toBe(address);
    expect(lines[0]!.msg).toContain("--metrics-listen");
  });
});
