/**
 * An independent client stack with an 8 KiB metadata limit gets the real answers (issue 10,
 * deliverable 2): Debian's python3-grpcio (gRPC C-core) calls our server with raw request bytes
 * built here — errors that echo big input (a 1 MiB name, 50,000 names, a spec with hundreds of
 * violations) and, on the same channel at the same time, 100 valid puts. grpcio must see the
 * real codes (not RESOURCE_EXHAUSTED from its metadata limit) and every put must succeed.
 */
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  GetServiceRequestSchema,
  MultiServiceAdmin,
  PutServiceRequestSchema,
  UninstallServiceRequestSchema,
  WatchUninstallRequestSchema,
} from "../../gen/corral/v1/admin_pb.js";
import { startCorral } from "../../src/app.js";
import type { Corral } from "../../src/app.js";
import { resolveOptions } from "../../src/config.js";
import { encodeRecords, toRecords } from "../fuzz/wire.js";
import type { RequestValue } from "../fuzz/wire.js";
import type { DescMessage } from "@bufbuild/protobuf";
import { SYSTEM_PYTHON, ensurePythonGrpcio } from "./python-grpcio.js";
import { tempDir } from "../use-temp-dir.js";

const run = promisify(execFile);
const SCRIPT = new URL("./grpcio_calls.py", import.meta.url).pathname;
const SIMPLE = readFileSync(new URL("../../examples/simple.yml", import.meta.url), "utf8");
const path = (method: string): string => `/${MultiServiceAdmin.typeName}/${method}`;
const hex = (schema: DescMessage, value: RequestValue): string => encodeRecords(toRecords(schema, value)).toString("hex");

/** A spec whose every pod breaks several rules: hundreds of violations, a long message. */
function manyViolations(): string {
  const pods = Array.from({ length: 100 }, (_, i) =>
    [`  pod-${i}-${"p".repeat(40)}:`, "    count: -1", "    tasks:", "      server:", "        goal: NOPE", "        cmd: ''", "        cpus: -1", "        memory: -1"].join("\n"),
  );
  return `name: {{SERVICE_NAME}}\npods:\n${pods.join("\n")}\n`;
}

interface PyResult {
  readonly id: string;
  readonly code: string;
  readonly details_len: number;
  readonly details: string;
  readonly messages: number;
  readonly trailer_bytes: number;
}

let corral: Corral;
let grpcio: string;

beforeAll(async () => {
  grpcio = await ensurePythonGrpcio();
  corral = await startCorral(
    resolveOptions(["--listen", "127.0.0.1:0", "--cluster", "sim", "--store", "memory", "--data-dir", tempDir("py")], {}),
    pino({ level: "silent" }),
  );
}, 600_000);

afterAll(async () => {
  await corral?.stop();
});

describe("python3-grpcio (C-core, 8 KiB metadata limit) against corral", () => {
  it("gets the real status of errors that echo big input, and 100 valid puts beside them all succeed", async () => {
    const errors = [
      // 1 MiB minus a little: under the 1 MiB request limit, so the handler answers.
      { id: "GetService 1 MiB name", expect: "NOT_FOUND", stream: false, method: path("GetService"), body_hex: hex(GetServiceRequestSchema, { name: "a".repeat(1024 * 1024 - 16) }) },
      { id: "UninstallService 1 MiB name", expect: "INVALID_ARGUMENT", stream: false, method: path("UninstallService"), body_hex: hex(UninstallServiceRequestSchema, { name: "é".repeat(512 * 1024 - 16) }) },
      { id: "WatchUninstall 50,000 names", expect: "NOT_FOUND", stream: true, method: path("WatchUninstall"), body_hex: hex(WatchUninstallRequestSchema, { names: Array.from({ length: 50_000 }, (_, i) => `gone-${i}`) }) },
      { id: "WatchUninstall 50,000 invalid names", expect: "INVALID_ARGUMENT", stream: true, method: path("WatchUninstall"), body_hex: hex(WatchUninstallRequestSchema, { names: Array.from({ length: 50_000 }, (_, i) => `Bad_${i}`) }) },
      { id: "PutService huge invalid spec", expect: "INVALID_ARGUMENT", stream: false, method: path("PutService"), body_hex: hex(PutServiceRequestSchema, { name: "bad-spec", spec: manyViolations() }) },
    ];
    const puts = Array.from({ length: 100 }, (_, i) => ({
      id: `put py-${i}`,
      expect: "OK",
      stream: false,
      method: path("PutService"),
      body_hex: hex(PutServiceRequestSchema, { name: `py-${i}`, spec: SIMPLE }),
    }));
    // Errors first in the list: they are in flight while the puts start.
    const calls = [...errors, ...puts].map(({ expect: _e, ...c }) => ({ ...c, timeout_s: 60 }));
    const file = join(tempDir("py-calls"), "calls.json");
    writeFileSync(file, JSON.stringify({ address: corral.address, max_metadata_size: 8192, calls }));

    const { stdout } = await run(SYSTEM_PYTHON, [SCRIPT, file], { maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
    const out = JSON.parse(stdout) as { grpcio: string; results: PyResult[] };
    expect(out.grpcio).toBe(grpcio);
    const byId = new Map(out.results.map((r) => [r.id, r]));

    const seen = errors.map((e) => {
      const r = byId.get(e.id)!;
      return { id: e.id, code: r.code, trailerBytes: r.trailer_bytes, details: r.details.slice(0, 120) };
    });
    expect(seen.map(({ id, code }) => ({ id, code })), JSON.stringify(seen, null, 2)).toEqual(errors.map((e) => ({ id: e.id, code: e.expect })));
    for (const s of seen) expect(s.trailerBytes, `${s.id}: ${s.details}`).toBeLessThan(4096);

    const failedPuts = puts.map((p) => byId.get(p.id)!).filter((r) => r.code !== "OK");
    expect(failedPuts, JSON.stringify(failedPuts.slice(0, 5), null, 2)).toEqual([]);
    // And they really created their services (grpcio's OK was not a lie either way).
    const names = new Set(corral.scheduler.listServices().map((s) => s.name));
    expect(puts.filter((_, i) => !names.has(`py-${i}`))).toEqual([]);
    expect(names.has("bad-spec")).toBe(false);
  }, 180_000);
});
