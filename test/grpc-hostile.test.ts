/**
 * Hostile input at the gRPC edge (issue 10, deliverables 1 and 2), end to end through
 * startCorral (memory store, simulated cluster) and the public client: error replies that would
 * echo a 1 MiB name or 50,000 names stay under 4 KiB of trailers as received (and as sent on the
 * wire, read with bare node:http2), and odd map keys, extreme int64s, huge repeated fields,
 * request metadata and the auth interceptor never produce INTERNAL or UNKNOWN.
 */
import * as grpc from "@grpc/grpc-js";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MultiServiceAdmin } from "../gen/corral/v1/admin_pb.js";
import { AdminServer } from "../src/adapters/grpc/server.js";
import { ERROR_TRAILER_LIMIT_BYTES, decodeViolations, encodedTrailerBytes } from "../src/adapters/grpc/status.js";
import { startCorral } from "../src/app.js";
import type { Corral } from "../src/app.js";
import { resolveOptions } from "../src/config.js";
import { createAdminClient } from "../src/client/index.js";
import type { AdminClient } from "../src/client/index.js";
import type { AdminApi, ServiceView } from "../src/engine/admin-api.js";
import { body, http2Call, pb, rawUnary } from "./grpc-raw-client.js";
import { tempDir } from "./use-temp-dir.js";

const SPEC = (cmd = "sleep 1000"): string =>
  ["name: {{SERVICE_NAME}}", "pods:", "  hello:", "    count: 1", "    tasks:", "      server:", "        goal: RUNNING", `        cmd: "${cmd}"`, "        cpus: 0.1", "        memory: 32", ""].join("\n");

/** Just under the 1 MiB request limit, with room for the rest of the message. */
const BIG = 1024 * 1024 - 256;

let corral: Corral;
let admin: AdminClient;

beforeAll(async () => {
  corral = await startCorral(resolveOptions(["--listen", "127.0.0.1:0", "--store", "memory", "--cluster", "sim", "--data-dir", tempDir("grpc-hostile")], {}), pino({ level: "silent" }));
  admin = createAdminClient({ address: corral.address, defaultDeadlineMs: 30_000 });
  await admin.putService({ name: "keep", spec: SPEC() });
});

afterAll(async () => {
  admin?.close();
  await corral?.stop();
});

const names = async (): Promise<string[]> => (await admin.listServices({})).services.map((s) => s.name);

async function failure(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  return promise.then(
    () => expect.fail("expected the call to fail"),
    (err: grpc.ServiceError) => err,
  );
}

/** A defined status of ours: not INTERNAL/UNKNOWN, trailers under 4 KiB as the client received them. */
function defined(err: grpc.ServiceError, code?: grpc.status): grpc.ServiceError {
  expect([grpc.status.INTERNAL, grpc.status.UNKNOWN, grpc.status.OK]).not.toContain(err.code);
  if (code !== undefined) expect(grpc.status[err.code]).toBe(grpc.status[code]);
  expect(encodedTrailerBytes(err.details, err.metadata)).toBeLessThan(ERROR_TRAILER_LIMIT_BYTES);
  return err;
}

/** Settles a call: OK, or a defined error that stored nothing. */
async function settles(call: () => Promise<unknown>): Promise<grpc.ServiceError | undefined> {
  const before = await names();
  try {
    await call();
    return undefined;
  } catch (err) {
    defined(err as grpc.ServiceError);
    expect(await names()).toEqual(before);
    return err as grpc.ServiceError;
  }
}

/** Uninstalls `name` and waits until it is gone, so the next case's before/after lists are stable. */
async function removed(name: string): Promise<void> {
  await admin.uninstallService({ name });
  for (let i = 0; i < 500 && (await names()).includes(name); i++) await new Promise((r) => setTimeout(r, 10));
  expect(await names()).not.toContain(name);
}

describe("error replies stay under 4 KiB whatever they would echo", () => {
  const big = "n".repeat(BIG);

  it("GetService with a 1 MiB name: NOT_FOUND, the name cut", async () => {
    const err = defined(await failure(admin.getService({ name: big })), grpc.status.NOT_FOUND);
    expect(err.details).toBe(`service '${"n".repeat(64)}…(${BIG} chars)' not found`);
  });

  it("UninstallService with a 1 MiB name", async () => {
    defined(await failure(admin.uninstallService({ name: big })), grpc.status.INVALID_ARGUMENT);
    defined(await failure(admin.uninstallService({ name: `a${"/b".repeat(BIG / 2 - 8)}` })));
  });

  it("GetPlan with a 1 MiB name, and with a 1 MiB plan of an existing service", async () => {
    defined(await failure(admin.getPlan({ name: big })), grpc.status.NOT_FOUND);
    const err = defined(await failure(admin.getPlan({ name: "keep", plan: big })), grpc.status.NOT_FOUND);
    expect(err.details).toMatch(/^service 'keep' has no plan 'n{64}…\(1048320 chars\)' \(plans: /);
  });

  it("PutService with a 1 MiB name, a 1 MiB parameter value, and a spec of 20,000 errors", async () => {
    await settles(() => admin.putService({ name: big, spec: SPEC() }));
    await settles(() => admin.putService({ name: "p", spec: SPEC(), parameters: { SERVICE_NAME: big } }));
    const pods = Array.from({ length: 20_000 }, (_, i) => `  p${i}:\n    count: x`).join("\n");
    const err = await settles(() => admin.putService({ name: "many", spec: `name: {{SERVICE_NAME}}\npods:\n${pods}\n` }));
    expect(err).toBeDefined();
  });

  it("PutSecret and DeleteSecret with a 1 MiB name, PutSecret with a 1 MiB value; GetEndpoints with 1 MiB names", async () => {
    const before = (await admin.listSecrets({})).secrets;
    for (const f of ["name", "value"]) {
      const put = defined(await failure(admin.putSecret({ name: f === "name" ? big : "s", value: Buffer.alloc(f === "name" ? 1 : BIG, 0x41) })), grpc.status.INVALID_ARGUMENT);
      expect(decodeViolations(put.metadata)[0]?.field).toBe(f);
    }
    defined(await failure(admin.deleteSecret({ name: big })), grpc.status.INVALID_ARGUMENT);
    expect((await admin.listSecrets({})).secrets).toEqual(before);
    defined(await failure(admin.getEndpoints({ serviceName: big })));
    defined(await failure(admin.getEndpoints({ serviceName: "keep", portName: big })));
  });

  it("WatchUninstall with 50,000 unknown names: NOT_FOUND listing five and counting the rest", async () => {
    const many = Array.from({ length: 50_000 }, (_, i) => `svc-${i}`);
    const err = defined(await failure(drain(admin.watchUninstall({ names: many }))), grpc.status.NOT_FOUND);
    expect(err.details).toBe("no service and no uninstall events for: svc-0, svc-1, svc-2, svc-3, svc-4 and 49995 more");
  });

  it("WatchUninstall with 50,000 invalid or 1 MiB names", async () => {
    defined(await failure(drain(admin.watchUninstall({ names: Array(50_000).fill("A__B") }))), grpc.status.INVALID_ARGUMENT);
    defined(await failure(drain(admin.watchUninstall({ names: ["keep", big] }))));
  });

  it("measured on the wire: the trailers as node:http2 receives them", async () => {
    const path = `/${MultiServiceAdmin.typeName}/GetService`;
    const reply = await http2Call(corral.address, path, body(pb.len(1, big)));
    expect(reply.statusBlock["grpc-status"]).toBe(String(grpc.status.NOT_FOUND));
    expect(reply.statusBlockBytes).toBeLessThan(ERROR_TRAILER_LIMIT_BYTES);
    const watch = await http2Call(corral.address, `/${MultiServiceAdmin.typeName}/WatchUninstall`, body(...Array.from({ length: 50_000 }, (_, i) => pb.len(1, `w-${i}`))));
    expect(watch.statusBlock["grpc-status"]).toBe(String(grpc.status.NOT_FOUND));
    expect(watch.statusBlockBytes).toBeLessThan(ERROR_TRAILER_LIMIT_BYTES);
  });
});

async function drain(stream: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const _ of stream) n++;
  return n;
}

describe("nothing else at the edge gives INTERNAL or UNKNOWN", () => {
  it.each([
    { label: "__proto__", key: "__proto__", value: "x" },
    { label: "constructor", key: "constructor", value: "x" },
    { label: "toString", key: "toString", value: "x" },
    { label: "hasOwnProperty", key: "hasOwnProperty", value: "x" },
    { label: "empty", key: "", value: "empty key" },
    { label: "NUL", key: "\u0000", value: "NUL key" },
    { label: "A with a NUL value", key: "A", value: "\u0000" },
    { label: "a newline", key: "line\nbreak", value: "v" },
    { label: "an emoji, value a lone surrogate", key: "😀", value: "\ud83d" },
    { label: "900 KiB long", key: "K".repeat(900 * 1024), value: "v" },
  ])("parameters with a key $label", async ({ key, value }) => {
    const err = await settles(() => admin.putService({ name: "params", spec: SPEC(`echo {{${key.slice(0, 100)}}}`), parameters: { [key]: value } }));
    if (err === undefined) await removed("params");
  });

  it("10,000 parameters and a spec naming __proto__, constructor and a NUL", async () => {
    const parameters = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`P${i}`, `${i}`]));
    await settles(() => admin.putService({ name: "manyparams", spec: SPEC("echo {{__proto__}} {{constructor}} {{P1}}"), parameters }));
    await settles(() => admin.putService({ name: "nul", spec: `${SPEC()}\u0000` }));
  });

  it.each([2n ** 64n - 1n, 2n ** 63n, 2n ** 63n - 1n, 2n ** 53n + 1n])("WatchUninstall after=%s is OUT_OF_RANGE", async (after) => {
    defined(await failure(drain(admin.watchUninstall({ names: [], after }))), grpc.status.OUT_OF_RANGE);
    defined(await failure(drain(admin.watchUninstall({ names: ["keep"], after }))), grpc.status.OUT_OF_RANGE);
  });

  it("empty and default requests", async () => {
    defined(await failure(admin.getService({})), grpc.status.NOT_FOUND);
    defined(await failure(admin.uninstallService({})), grpc.status.INVALID_ARGUMENT);
    defined(await failure(admin.getPlan({ plan: "deploy" })), grpc.status.NOT_FOUND);
    defined(await failure(admin.putService({})), grpc.status.INVALID_ARGUMENT);
    defined(await failure(admin.putSecret({})), grpc.status.INVALID_ARGUMENT);
    defined(await failure(admin.deleteSecret({})), grpc.status.INVALID_ARGUMENT);
    defined(await failure(admin.getEndpoints({})), grpc.status.INVALID_ARGUMENT);
    expect(await names()).toEqual(["keep"]);
  });

  it("request metadata: an 8 KiB x-request-id, a binary one, many entries — answered, the id not echoed", async () => {
    const metadata = new grpc.Metadata();
    metadata.set("x-request-id", "r".repeat(8 * 1024));
    metadata.set("x-request-id-bin", Buffer.alloc(4096, 0xff));
    for (let i = 0; i < 50; i++) metadata.add(`x-extra-${i}`, "v".repeat(100));
    const raw = new grpc.Client(corral.address, grpc.credentials.createInsecure());
    try {
      const headers = new Promise<grpc.Metadata>((resolve) => {
        const call = raw.makeUnaryRequest(`/${MultiServiceAdmin.typeName}/GetService`, (b: Buffer) => b, (b: Buffer) => b, body(pb.len(1, "nope")), metadata, () => {});
        call.on("metadata", resolve);
      });
      const [id] = (await headers).get("x-request-id");
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      const { status } = await rawUnary(raw, `/${MultiServiceAdmin.typeName}/GetService`, body(pb.len(1, "nope")), metadata);
      expect(grpc.status[status.code]).toBe("NOT_FOUND");
      expect(status.metadata.get("x-request-id")).toEqual([expect.stringMatching(/^[0-9a-f-]{36}$/)]); // a fresh one, not the 8 KiB one
      expect(encodedTrailerBytes(status.details, status.metadata)).toBeLessThan(ERROR_TRAILER_LIMIT_BYTES);
    } finally {
      raw.close();
    }
  });
});

describe("the bearer-token interceptor", () => {
  const TOKEN = "tok-0123456789";
  const view = (name: string): ServiceView => ({ name, state: "RUNNING", configId: "c", generation: 1, plans: [], createdMs: 0, updatedMs: 0 });
  let calls = 0;
  const api: AdminApi = {
    putService: async (input) => (calls++, { service: view(input.name), outcome: "CREATED" as const, warnings: [] }),
    uninstallService: async (name) => (calls++, view(name)),
    watchUninstall: () => (calls++, (async function* () {})()),
    listServices: () => (calls++, []),
    getService: (name) => (calls++, view(name)),
    getPlan: (name) => (calls++, { name, status: "COMPLETE" as const, strategy: "serial" as const, phases: [], errors: [] }),
    getScheduler: () => ({ state: "RUNNING" as const, services: 0, uninstalling: 0, lastUninstallEvent: 0n, serviceMode: "dynamic" as const, schemaVersion: 2 as const }),
  };
  const server = new AdminServer({ api, logger: pino({ level: "silent" }), authToken: TOKEN });
  let address = "";
  let raw: grpc.Client;

  beforeAll(async () => {
    const { port } = await server.listen("127.0.0.1:0");
    address = `127.0.0.1:${port}`;
    raw = new grpc.Client(address, grpc.credentials.createInsecure());
  });
  afterAll(async () => {
    raw?.close();
    await server.stop(1000);
  });

  const withAuth = (...values: Array<string | Buffer>): grpc.Metadata => {
    const md = new grpc.Metadata();
    for (const v of values) {
      if (typeof v === "string") md.add("authorization", v);
      else md.add("authorization-bin", v);
    }
    return md;
  };
  const getService = `/${MultiServiceAdmin.typeName}/GetService`;

  it.each([
    ["no token", withAuth()],
    ["an 8 KiB token", withAuth(`Bearer ${"x".repeat(8 * 1024)}`)],
    // Two `authorization` values never leave a grpc-js or node:http2 client (a single-value header); a joined pair does.
    ["a joined pair of tokens", withAuth(`Bearer ${TOKEN}, Bearer ${TOKEN}`)],
    ["a binary authorization-bin only", withAuth(Buffer.from(`Bearer ${TOKEN}`))],
    ["a scheme without a token", withAuth("Bearer")],
    ["an 8 KiB x-request-id", (() => { const md = withAuth("Basic abc"); md.set("x-request-id", "r".repeat(8192)); return md; })()],
  ])("%s: UNAUTHENTICATED, bounded, nothing reached the API", async (_what, metadata) => {
    const before = calls;
    const { status } = await rawUnary(raw, getService, body(pb.len(1, "x".repeat(BIG))), metadata);
    expect(grpc.status[status.code]).toBe("UNAUTHENTICATED");
    expect(encodedTrailerBytes(status.details, status.metadata)).toBeLessThan(ERROR_TRAILER_LIMIT_BYTES);
    expect(calls).toBe(before);
  });

  it("a malformed body with a valid token is INVALID_ARGUMENT; without one, UNAUTHENTICATED first", async () => {
    const broken = body(pb.tag(1, 3), pb.varint(3), [0x61, 0x62, 0x63]);
    const before = calls;
    const ok = await rawUnary(raw, getService, broken, withAuth(`Bearer ${TOKEN}`));
    expect(grpc.status[ok.status.code]).toBe("INVALID_ARGUMENT");
    expect(decodeViolations(ok.status.metadata)[0]?.field).toBe("name");
    const refused = await rawUnary(raw, getService, broken, withAuth());
    expect(grpc.status[refused.status.code]).toBe("UNAUTHENTICATED");
    expect(calls).toBe(before);
  });
});
