/**
 * GetEndpoints at the gRPC edge over an AdminApi whose getEndpoints answers as the engine's does
 * (ENDPOINTS-API.md): the messages carry every field, `port_name` reaches the engine, and its
 * errors keep their status, with `service_name` named for a bad service name.
 */
import * as grpc from "@grpc/grpc-js";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminServer } from "../src/adapters/grpc/server.js";
import { ERROR_TRAILER_LIMIT_BYTES, encodedTrailerBytes } from "../src/adapters/grpc/status.js";
import { createAdminClient, fieldViolations } from "../src/client/index.js";
import type { AdminClient } from "../src/client/index.js";
import { SchedulerError } from "../src/domain/errors.js";
import type { AdminApi, EndpointView } from "../src/engine/admin-api.js";

const HELLO: readonly EndpointView[] = [
  {
    name: "http",
    addresses: ["10.0.0.1:31000", "10.0.0.2:31000"],
    dns: ["hello-0-server.hello.autoip.dcos.thisdcos.directory:31000", "hello-1-server.hello.autoip.dcos.thisdcos.directory:31000"],
    vip: "web.hello.l4lb.thisdcos.directory:80",
  },
  { name: "metrics", addresses: [], dns: [] },
];

const asked: Array<[string, string | undefined]> = [];
const base: AdminApi = {
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
const api: AdminApi = {
  ...base,
  async getEndpoints(name, portName) {
    asked.push([name, portName]);
    if (name.includes("__")) throw SchedulerError.invalid([{ field: "name", reason: "must not contain '__'" }]);
    if (name !== "hello" && name !== "quiet") throw new SchedulerError("not_found", `service '${name.slice(0, 100)}' not found`);
    const all = name === "hello" ? HELLO : [];
    if (portName === undefined) return all;
    const one = all.filter((e) => e.name === portName);
    if (one.length === 0) throw new SchedulerError("not_found", `service '${name}' has no endpoint '${portName.slice(0, 100)}' (it has none)`);
    return one;
  },
};

const servers: AdminServer[] = [];
let admin: AdminClient;
let bare: AdminClient;

async function serve(with_: AdminApi): Promise<AdminClient> {
  const server = new AdminServer({ api: with_, logger: pino({ level: "silent" }) });
  servers.push(server);
  const { port } = await server.listen("127.0.0.1:0");
  return createAdminClient({ address: `127.0.0.1:${port}`, defaultDeadlineMs: 10_000 });
}

beforeAll(async () => {
  admin = await serve(api);
  bare = await serve(base);
});
afterAll(async () => {
  admin?.close();
  bare?.close();
  await Promise.all(servers.map((s) => s.stop(1000)));
});

async function failure(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  return promise.then(
    () => expect.fail("expected the call to fail"),
    (err: grpc.ServiceError) => err,
  );
}

describe("GetEndpoints", () => {
  it("every endpoint: name, addresses, dns names and the VIP (\"\" without one)", async () => {
    const { endpoints } = await admin.getEndpoints({ serviceName: "hello" });
    expect(endpoints.map((e) => ({ name: e.name, address: e.address, dns: e.dns, vip: e.vip }))).toEqual([
      { name: "http", address: [...HELLO[0]!.addresses], dns: [...HELLO[0]!.dns], vip: HELLO[0]!.vip },
      { name: "metrics", address: [], dns: [], vip: "" },
    ]);
    expect(asked.at(-1)).toEqual(["hello", undefined]);
  });

  it("one endpoint by port name", async () => {
    const { endpoints } = await admin.getEndpoints({ serviceName: "hello", portName: "metrics" });
    expect(endpoints.map((e) => e.name)).toEqual(["metrics"]);
    expect(asked.at(-1)).toEqual(["hello", "metrics"]);
  });

  it("a service without endpoints answers an empty list", async () => {
    expect((await admin.getEndpoints({ serviceName: "quiet" })).endpoints).toEqual([]);
  });

  it("an unknown service, or port name, is NOT_FOUND; a 1 MiB name stays bounded", async () => {
    const unknown = await failure(admin.getEndpoints({ serviceName: "nope" }));
    expect(grpc.status[unknown.code]).toBe("NOT_FOUND");
    expect(unknown.details).toBe("service 'nope' not found");
    const port = await failure(admin.getEndpoints({ serviceName: "hello", portName: "nope" }));
    expect(grpc.status[port.code]).toBe("NOT_FOUND");
    expect(port.details).toMatch(/no endpoint 'nope'/);
    const big = await failure(admin.getEndpoints({ serviceName: "x".repeat(1024 * 1024 - 64) }));
    expect(grpc.status[big.code]).toBe("NOT_FOUND");
    expect(encodedTrailerBytes(big.details, big.metadata)).toBeLessThan(ERROR_TRAILER_LIMIT_BYTES);
  });

  it("an empty or invalid service name is INVALID_ARGUMENT naming service_name", async () => {
    const empty = await failure(admin.getEndpoints({ portName: "http" }));
    expect(grpc.status[empty.code]).toBe("INVALID_ARGUMENT");
    expect(fieldViolations(empty)).toEqual([{ field: "service_name", reason: "is required" }]);
    const bad = await failure(admin.getEndpoints({ serviceName: "a__b" }));
    expect(grpc.status[bad.code]).toBe("INVALID_ARGUMENT");
    expect(fieldViolations(bad)).toEqual([{ field: "service_name", reason: "must not contain '__'" }]);
    expect(bad.details).toBe("service_name: must not contain '__'");
  });

  it("a scheduler without getEndpoints answers UNIMPLEMENTED", async () => {
    expect(grpc.status[(await failure(bare.getEndpoints({ serviceName: "hello" }))).code]).toBe("UNIMPLEMENTED");
  });
});
