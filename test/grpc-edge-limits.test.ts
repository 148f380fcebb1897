/**
 * The request and spec limits end to end, through startCorral (memory store, simulated cluster)
 * and the public client: each breach is INVALID_ARGUMENT or RESOURCE_EXHAUSTED naming the limit,
 * and changes nothing. The parser's own tests cover every SPEC_LIMITS entry in detail.
 */
import * as grpc from "@grpc/grpc-js";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCorral } from "../src/app.js";
import type { Corral } from "../src/app.js";
import { resolveOptions } from "../src/config.js";
import { createAdminClient } from "../src/client/index.js";
import type { AdminClient } from "../src/client/index.js";
import { SPEC_LIMITS } from "../src/domain/spec/limits.js";
import { MAX_CONTEXT_BYTES } from "../src/engine/service-context.js";

let corral: Corral;
let admin: AdminClient;

beforeAll(async () => {
  corral = await startCorral(resolveOptions(["--listen", "127.0.0.1:0", "--store", "memory", "--cluster", "sim"], {}), pino({ level: "silent" }));
  admin = createAdminClient({ address: corral.address, defaultDeadlineMs: 20_000 });
});

afterAll(async () => {
  admin?.close();
  await corral?.stop();
});

const task = (name: string): string => `      ${name}:\n        goal: RUNNING\n        cmd: "sleep 1000"\n        cpus: 0.1\n        memory: 32`;
const pod = (name: string, count: number, tasks = 1): string =>
  `  ${name}:\n    count: ${count}\n    tasks:\n${Array.from({ length: tasks }, (_, i) => task(`t${i}`)).join("\n")}`;
const spec = (...pods: string[]): string => `name: {{SERVICE_NAME}}\npods:\n${pods.join("\n")}\n`;
const padded = (bytes: number): string => `${spec(pod("hello", 1))}${`# ${"x".repeat(98)}\n`.repeat(Math.ceil(bytes / 101))}`;
/** Nine levels of ten aliases each: 10^9 nodes if expanded. */
const BOMB = [
  "name: {{SERVICE_NAME}}",
  "a: &a [x, x, x, x, x, x, x, x, x, x]",
  ..."bcdefghi".split("").map((c, i) => `${c}: &${c} [${Array(10).fill(`*${"abcdefghi"[i]}`).join(", ")}]`),
].join("\n");

async function rejection(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  return promise.then(
    () => expect.fail("expected the call to fail"),
    (err: grpc.ServiceError) => err,
  );
}

describe("limits", () => {
  it("a valid spec under every limit is accepted", async () => {
    await admin.putService({ name: "ok", spec: padded(50 * 1024) });
  });

  it.each([
    { limit: "request size (1 MiB)", spec: "x".repeat(1024 * 1024), code: grpc.status.RESOURCE_EXHAUSTED, message: /larger than max \(\d+ vs 1048576\)/ },
    { limit: "spec text (SPEC_LIMITS.maxSpecChars)", spec: padded(SPEC_LIMITS.maxSpecChars + 1), code: grpc.status.INVALID_ARGUMENT, message: /SPEC_LIMITS\.maxSpecChars/ },
    { limit: "service context (100 KiB)", spec: padded(MAX_CONTEXT_BYTES + 1), code: grpc.status.INVALID_ARGUMENT, message: /the limit is 102400 \(100 KiB\)/ },
    { limit: "pods (SPEC_LIMITS.maxPods)", spec: spec(...Array.from({ length: SPEC_LIMITS.maxPods + 1 }, (_, i) => pod(`p${i}`, 1))), code: grpc.status.INVALID_ARGUMENT, message: /SPEC_LIMITS\.maxPods \(at most 100, got 101\)/ },
    { limit: "tasks per pod (SPEC_LIMITS.maxTasksPerPod)", spec: spec(pod("p", 1, SPEC_LIMITS.maxTasksPerPod + 1)), code: grpc.status.INVALID_ARGUMENT, message: /SPEC_LIMITS\.maxTasksPerPod/ },
    { limit: "pod count (SPEC_LIMITS.maxPodCount)", spec: spec(pod("p", SPEC_LIMITS.maxPodCount + 1)), code: grpc.status.INVALID_ARGUMENT, message: /SPEC_LIMITS\.maxPodCount/ },
    { limit: "task instances (SPEC_LIMITS.maxTaskInstances)", spec: spec(...Array.from({ length: 11 }, (_, i) => pod(`p${i}`, 1000))), code: grpc.status.INVALID_ARGUMENT, message: /SPEC_LIMITS\.maxTaskInstances/ },
    { limit: "YAML alias expansion (SPEC_LIMITS.maxAliasCount)", spec: BOMB, code: grpc.status.INVALID_ARGUMENT, message: /SPEC_LIMITS\.maxAliasCount/ },
  ])("$limit", async ({ spec: text, code, message }) => {
    const before = (await admin.listServices({})).services.map((s) => s.name);
    const err = await rejection(admin.putService({ name: "big", spec: text }));
    expect(grpc.status[err.code]).toBe(grpc.status[code]);
    expect(err.details).toMatch(message);
    expect((await admin.listServices({})).services.map((s) => s.name)).toEqual(before);
  });
});
