import { readFileSync } from "node:fs";
/**
 * End to end through the real composition root, driven only by `buf curl` (gRPC, h2c) with the
 * schema taken from server reflection: what an operator without our client would do. Waits
 * poll every 50 ms and are bounded by vitest's test timeout (no wall-clock assertions).
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCorral } from "../../src/app.js";
import type { Corral } from "../../src/app.js";
import { resolveOptions } from "../../src/config.js";
import { tempDir } from "../use-temp-dir.js";

const BUF = new URL("../../node_modules/.bin/buf", import.meta.url).pathname;
const HELLO_WORLD = readFileSync(new URL("../../examples/hello-world.yml", import.meta.url), "utf8");
const ADMIN = "corral.v1.MultiServiceAdmin";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface CurlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

let corral: Corral;
let base: string;

beforeAll(async () => {
  corral = await startCorral(resolveOptions(["--listen", "127.0.0.1:0", "--cluster", "sim", "--data-dir", tempDir("e2e")], {}), pino({ level: "silent" }));
  base = `http://${corral.address}`;
});

afterAll(async () => {
  await corral?.stop();
});

/** Runs `buf curl --protocol grpc --http2-prior-knowledge ...args`; never rejects, reports the exit code. */
async function curl(...args: string[]): Promise<CurlResult> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      BUF,
      ["curl", "--protocol", "grpc", "--http2-prior-knowledge", ...args],
      { timeout: 20_000 },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string; message?: string };
    return {
      code: typeof e.code === "number" ? e.code : -1,
      stdout: e.stdout ?? "",
      stderr: e.stderr ?? e.message ?? "",
    };
  }
}

/** A successful call's JSON body; fails the test with buf's output otherwise. */
async function call(method: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await curl("-d", JSON.stringify(body), `${base}/${method}`);
  expect(res.code, `buf curl ${method} failed: ${res.stderr}`).toBe(0);
  return JSON.parse(res.stdout) as Record<string, unknown>;
}

describe("corral through buf curl and server reflection", () => {
  it("lists the admin and health services", async () => {
    const res = await curl("--list-services", base);
    expect(res.code, res.stderr).toBe(0);
    const services = res.stdout.split("\n").filter(Boolean);
    expect(services).toContain(ADMIN);
    expect(services).toContain("grpc.health.v1.Health");
  });

  it("lists every admin RPC", async () => {
    const res = await curl("--list-methods", base);
    expect(res.code, res.stderr).toBe(0);
    const methods = res.stdout
      .split("\n")
      .filter((l) => l.startsWith(`${ADMIN}/`))
      .sort();
    expect(methods).toEqual(
      ["ControlPlan", "ControlPod", "DeleteSecret", "GetEndpoints", "GetPlan", "GetScheduler", "GetService", "ListPlans", "ListPods", "ListSecrets", "ListServices", "ListTasks", "PutSecret", "PutService", "TaskLog", "UninstallService", "WatchPlans", "WatchUninstall"].map((m) => `${ADMIN}/${m}`),
    );
  });

  it("creates hello from JSON", async () => {
    const body = await call(`${ADMIN}/PutService`, { name: "hello", spec: HELLO_WORLD });
    expect(body["outcome"]).toBe("PUT_OUTCOME_CREATED");
    expect(body["service"]).toMatchObject({ name: "hello" });
  });

  it("shows hello in ListServices", async () => {
    const body = await call(`${ADMIN}/ListServices`, {});
    const services = body["services"] as Array<{ name: string }>;
    expect(services.map((s) => s.name)).toContain("hello");
  });

  it("reaches STATUS_COMPLETE on hello's deploy plan", async (ctx) => {
    let last: Record<string, unknown> = {};
    ctx.onTestFailed(() => console.error(`last GetPlan of hello: ${JSON.stringify(last, null, 2)}`));
    for (;;) {
      last = await call(`${ADMIN}/GetPlan`, { name: "hello" });
      const plan = last["plan"] as { status?: string } | undefined;
      if (plan?.status === "STATUS_COMPLETE") break;
      if (ctx.signal.aborted) throw new Error(`deploy of hello did not complete: ${JSON.stringify(last)}`);
      await sleep(50);
    }
    expect(last["plan"]).toMatchObject({ name: "deploy", status: "STATUS_COMPLETE" });
  });

  it("answers grpc.health.v1.Health/Check with SERVING", async () => {
    const body = await call("grpc.health.v1.Health/Check", {});
    expect(body["status"]).toBe("SERVING");
  });

  it("fails a bad PutService with a non-zero exit and invalid_argument", async () => {
    const res = await curl("-d", JSON.stringify({ name: "Bad_Name", spec: HELLO_WORLD }), `${base}/${ADMIN}/PutService`);
    expect(res.code).not.toBe(0);
    expect(`${res.stdout}\n${res.stderr}`).toContain("invalid_argument");
    // ...and it changed nothing.
    const body = await call(`${ADMIN}/ListServices`, {});
    expect((body["services"] as Array<{ name: string }>).map((s) => s.name)).toEqual(["hello"]);
  });
});
