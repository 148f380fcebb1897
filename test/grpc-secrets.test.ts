/**
 * PutSecret, ListSecrets, DeleteSecret at the gRPC edge: the AdminServer over the file store in a
 * temp dir (the local agent's), over "secrets live elsewhere" (Mesos) and over no store; every
 * log line captured at trace level to show that a value is never written to one, nor answered.
 */
import { statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import * as grpc from "@grpc/grpc-js";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MultiServiceAdmin } from "../gen/corral/v1/admin_pb.js";
import { MESOS_SECRETS, secretsAccess } from "../src/adapters/grpc/secrets-access.js";
import { AdminServer } from "../src/adapters/grpc/server.js";
import { ERROR_TRAILER_LIMIT_BYTES, encodedTrailerBytes } from "../src/adapters/grpc/status.js";
import { SecretFiles } from "../src/adapters/secrets/secret-files.js";
import { createAdminClient, fieldViolations } from "../src/client/index.js";
import type { AdminClient } from "../src/client/index.js";
import type { AdminApi, SecretsAccess } from "../src/engine/admin-api.js";
import { body, pb, rawUnary } from "./grpc-raw-client.js";
import { tempDir } from "./use-temp-dir.js";

/** A value that must show up in no log line, no reply and no error. */
const VALUE = "V4LUE-0f9e8d7c6b5a-must-never-be-logged";
const api: AdminApi = {
  putService: () => Promise.reject(new Error("unused")),
  uninstallService: () => Promise.reject(new Error("unused")),
  watchUninstall: () => (async function* () {})(),
  listServices: () => [],
  getService: () => {
    throw new Error("unused");
  },
  getPlan: () => {
    throw new Error("unused");
  },
  getScheduler: () => ({ state: "RUNNING", services: 0, uninstalling: 0, lastUninstallEvent: 0n, serviceMode: "dynamic" as const, schemaVersion: 2 as const }),
};

const logLines: string[] = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    logLines.push(...chunk.toString().split("\n").filter(Boolean));
    done();
  },
});

const servers: AdminServer[] = [];
const clients: AdminClient[] = [];

async function serve(secrets: SecretsAccess | undefined): Promise<{ admin: AdminClient; address: string }> {
  const server = new AdminServer({ api, logger: pino({ level: "trace" }, sink), ...(secrets ? { secrets } : {}) });
  servers.push(server);
  const { port } = await server.listen("127.0.0.1:0");
  const address = `127.0.0.1:${port}`;
  const admin = createAdminClient({ address, defaultDeadlineMs: 10_000 });
  clients.push(admin);
  return { admin, address };
}

afterAll(async () => {
  for (const c of clients) c.close();
  await Promise.all(servers.map((s) => s.stop(1000)));
});

async function failure(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  return promise.then(
    () => expect.fail("expected the call to fail"),
    (err: grpc.ServiceError) => err,
  );
}

/** The error names the field, stays bounded, and carries nothing of the value. */
function refused(err: grpc.ServiceError, code: grpc.status, field?: string): void {
  expect(grpc.status[err.code], err.details).toBe(grpc.status[code]);
  if (field !== undefined) expect(fieldViolations(err).map((v) => v.field)).toContain(field);
  expect(encodedTrailerBytes(err.details, err.metadata)).toBeLessThan(ERROR_TRAILER_LIMIT_BYTES);
  expect(err.details).not.toContain(VALUE);
  expect(JSON.stringify(err.metadata.getMap())).not.toContain(VALUE);
}

describe("secrets on the local agent's file store", () => {
  let admin: AdminClient;
  let address: string;
  let dir: string;
  beforeAll(async () => {
    dir = join(tempDir("grpc-secrets"), "secrets");
    ({ admin, address } = await serve({ store: new SecretFiles(dir) }));
  });
  const listed = async () => (await admin.listSecrets({})).secrets.map((s) => ({ name: s.name, size: Number(s.sizeBytes) }));

  it("put, list (name, size, time; no value), replace, delete, delete again", async () => {
    const before = Date.now();
    await admin.putSecret({ name: "hello-world/secret1", value: Buffer.from(VALUE) });
    await admin.putSecret({ name: "b_2", value: new Uint8Array([0, 1, 2]) });
    const { secrets } = await admin.listSecrets({});
    expect(secrets.map((s) => [s.name, Number(s.sizeBytes)])).toEqual([["b_2", 3], ["hello-world/secret1", VALUE.length]]);
    const ms = Number(secrets[0]!.updateTime!.seconds) * 1000;
    expect(ms).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 - 1000);
    expect(JSON.stringify(secrets, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v))).not.toContain(VALUE);
    // The file the agent reads, 0600 in a 0700 directory.
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    await admin.putSecret({ name: "b_2", value: Buffer.from("longer value") });
    expect(await listed()).toContainEqual({ name: "b_2", size: 12 });
    expect((await admin.deleteSecret({ name: "b_2" })).existed).toBe(true);
    expect((await admin.deleteSecret({ name: "b_2" })).existed).toBe(false);
    expect(await listed()).toEqual([{ name: "hello-world/secret1", size: VALUE.length }]);
  });

  it("an empty value is a secret too", async () => {
    await admin.putSecret({ name: "empty", value: new Uint8Array() });
    expect(await listed()).toContainEqual({ name: "empty", size: 0 });
    expect((await admin.deleteSecret({ name: "empty" })).existed).toBe(true);
  });

  it.each([
    { what: "an empty name", name: "", reason: /required/ },
    { what: "a path out of the store", name: "../escape", reason: /segments/ },
    { what: "an absolute path", name: "/etc/passwd", reason: /segments/ },
    { what: "a hidden file", name: ".x", reason: /segments/ },
    { what: "an empty segment", name: "a//b", reason: /segments/ },
    { what: "a NUL", name: "a\0b", reason: /segments/ },
    { what: "a space", name: "a b", reason: /segments/ },
    { what: "256 characters", name: "a".repeat(256), reason: /at most 255/ },
  ])("PutSecret and DeleteSecret refuse $what: INVALID_ARGUMENT naming `name`, nothing stored", async ({ name, reason }) => {
    const before = await listed();
    const put = await failure(admin.putSecret({ name, value: Buffer.from(VALUE) }));
    refused(put, grpc.status.INVALID_ARGUMENT, "name");
    expect(fieldViolations(put)[0]!.reason).toMatch(reason);
    refused(await failure(admin.deleteSecret({ name })), grpc.status.INVALID_ARGUMENT, "name");
    expect(await listed()).toEqual(before);
  });

  it("a name too long for a file name (slashes stored as %2F) is INVALID_ARGUMENT naming `name` and the limit, not INTERNAL", async () => {
    const before = await listed();
    for (const name of [`${"a/".repeat(127)}a`, `${"b".repeat(100)}/${"c".repeat(154)}`]) {
      const err = await failure(admin.putSecret({ name, value: Buffer.from(VALUE) }));
      refused(err, grpc.status.INVALID_ARGUMENT, "name");
      expect(fieldViolations(err)[0]!.reason).toMatch(/is too long: with each '\/' counted as 3 characters it must be at most 255/);
    }
    expect(await listed()).toEqual(before);
  });

  it("refuses a value over 64 KiB naming `value` and the size, not the bytes; one of 64 KiB is kept", async () => {
    const before = await listed();
    const big = Buffer.from(VALUE.repeat(Math.ceil((64 * 1024 + 1) / VALUE.length))).subarray(0, 64 * 1024 + 1);
    const err = await failure(admin.putSecret({ name: "big", value: big }));
    refused(err, grpc.status.INVALID_ARGUMENT, "value");
    expect(fieldViolations(err)[0]!.reason).toBe("must be at most 65536 bytes, got 65537");
    expect(await listed()).toEqual(before);
    await admin.putSecret({ name: "big", value: big.subarray(0, 64 * 1024) });
    expect(await listed()).toContainEqual({ name: "big", size: 64 * 1024 });
    await admin.deleteSecret({ name: "big" });
  });

  it("a malformed body is INVALID_ARGUMENT, nothing stored", async () => {
    const raw = new grpc.Client(address, grpc.credentials.createInsecure());
    try {
      const before = await listed();
      const path = `/${MultiServiceAdmin.typeName}/PutSecret`;
      // The value sent as a varint (wrong wire type), then a truncated value.
      const wrongType = await rawUnary(raw, path, body(pb.len(1, "w"), pb.tag(2, 0), pb.varint(5), pb.len(2, VALUE)));
      expect(grpc.status[wrongType.status.code]).toBe("INVALID_ARGUMENT");
      const truncated = await rawUnary(raw, path, body(pb.len(1, "t"), pb.tag(2, 2), pb.varint(VALUE.length + 50), [...Buffer.from(VALUE)]));
      expect(grpc.status[truncated.status.code]).toBe("INVALID_ARGUMENT");
      for (const r of [wrongType, truncated]) expect(r.status.details).not.toContain(VALUE);
      expect(await listed()).toEqual(before);
    } finally {
      raw.close();
    }
  });

  it("after all of the above, no log line holds a value (the logger at trace level)", () => {
    expect(logLines.some((l) => l.includes('"method":"PutSecret"'))).toBe(true);
    expect(logLines.filter((l) => l.includes(VALUE))).toEqual([]);
  });
});

describe("a store that fails (its directory is a file)", () => {
  it("answers INTERNAL with the request id; the logged error holds no value", async () => {
    const file = join(tempDir("grpc-secrets"), "not-a-dir");
    writeFileSync(file, "x");
    const { admin } = await serve({ store: new SecretFiles(file) });
    const err = await failure(admin.putSecret({ name: "a", value: Buffer.from(VALUE) }));
    refused(err, grpc.status.INTERNAL);
    expect(err.details).toMatch(/internal error \(request id /);
    expect(logLines.some((l) => l.includes("rpc failed with an internal error"))).toBe(true);
    expect(logLines.filter((l) => l.includes(VALUE))).toEqual([]);
  });
});

describe("secrets on Mesos", () => {
  it("every secret RPC answers FAILED_PRECONDITION: the cluster's secret store holds them", async () => {
    const { admin } = await serve(secretsAccess("mesos", { agentDir: "/nonexistent", dataDir: "/nonexistent" }));
    for (const call of [admin.putSecret({ name: "a", value: Buffer.from(VALUE) }), admin.listSecrets({}), admin.deleteSecret({ name: "a" })]) {
      const err = await failure(call);
      refused(err, grpc.status.FAILED_PRECONDITION);
      expect(err.details).toBe(MESOS_SECRETS);
    }
  });
});

describe("a server made without a secret store", () => {
  it("answers UNIMPLEMENTED", async () => {
    const { admin } = await serve(undefined);
    refused(await failure(admin.listSecrets({})), grpc.status.UNIMPLEMENTED);
  });
});

describe("secretsAccess", () => {
  it("the local agent's <agent-dir>/secrets, the data dir's for sim, none on Mesos", async () => {
    const root = tempDir("grpc-secrets");
    const dirs = { agentDir: join(root, "agent"), dataDir: join(root, "data") };
    const local = secretsAccess("local", dirs);
    const sim = secretsAccess("sim", dirs);
    if (!("store" in local) || !("store" in sim)) return expect.fail("local and sim have a store");
    await local.store.put("l", Buffer.from("1"));
    await sim.store.put("s", Buffer.from("2"));
    expect(statSync(join(dirs.agentDir, "secrets", "l")).size).toBe(1);
    expect(statSync(join(dirs.dataDir, "secrets", "s")).size).toBe(1);
    expect(secretsAccess("mesos", dirs)).toEqual({ unavailable: MESOS_SECRETS });
  });
});
