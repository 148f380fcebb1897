/**
 * API security at the gRPC edge: the AdminServer with a fake AdminApi on 127.0.0.1:0, with a
 * bearer token, with mutual TLS (certificates made by openssl at test time), and with both.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminServer } from "../src/adapters/grpc/server.js";
import { isLoopbackHost } from "../src/adapters/grpc/auth.js";
import { SecretFiles } from "../src/adapters/secrets/secret-files.js";
import { Health, HealthCheckResponse_ServingStatus, createAdminClient, createPromiseClient } from "../src/client/index.js";
import type { AdminClient } from "../src/client/index.js";
import type { AdminApi, ServiceView } from "../src/engine/admin-api.js";
import { makeTestPki } from "./grpc-edge-certs.js";
import type { TestPki } from "./grpc-edge-certs.js";
import { tempDir } from "./use-temp-dir.js";

const TOKEN = "s3cret-token-0123456789abcdef";

function view(name: string): ServiceView {
  return { name, state: "RUNNING", configId: "c", generation: 1, plans: [], createdMs: 0, updatedMs: 0 };
}

/** Counts the calls that reached it: a refused call must not. */
class CountingApi implements AdminApi {
  calls = 0;
  async putService(input: { name: string }) {
    this.calls++;
    return { service: view(input.name), outcome: "CREATED" as const, warnings: [] };
  }
  async uninstallService(name: string): Promise<ServiceView> {
    this.calls++;
    return view(name);
  }
  async *watchUninstall(names: readonly string[]) {
    this.calls++;
    const base = { timeMs: 0, stepsComplete: 0, stepsTotal: 1, leftovers: [], message: "" };
    yield { ...base, sequence: 1n, name: names[0] ?? "x", kind: "STARTED" as const };
    yield { ...base, sequence: 2n, name: names[0] ?? "x", kind: "COMPLETED" as const };
  }
  listServices(): readonly ServiceView[] {
    this.calls++;
    return [view("a")];
  }
  getService(name: string): ServiceView {
    this.calls++;
    return view(name);
  }
  getPlan(name: string, plan: string) {
    this.calls++;
    return { name: plan || "deploy", status: "COMPLETE" as const, strategy: "serial" as const, phases: [], errors: [name] };
  }
  getScheduler() {
    return { state: "RUNNING" as const, services: 0, uninstalling: 0, lastUninstallEvent: 0n, serviceMode: "dynamic" as const, schemaVersion: 2 as const };
  }
}

async function rejection(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  return promise.then(
    () => expect.fail("expected the call to fail"),
    (err: grpc.ServiceError) => err,
  );
}

async function drain(stream: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const _ of stream) n++;
  return n;
}

const silent = pino({ level: "silent" });
const clients: Array<{ close(): void }> = [];
const servers: AdminServer[] = [];

afterAll(async () => {
  for (const c of clients) c.close();
  await Promise.all(servers.map((s) => s.stop(2000)));
});

function admin(address: string, options: { token?: string; credentials?: grpc.ChannelCredentials } = {}): AdminClient {
  const client = createAdminClient({ address, defaultDeadlineMs: 5000, ...options });
  clients.push(client);
  return client;
}

async function serve(options: Omit<ConstructorParameters<typeof AdminServer>[0], "api" | "logger">, api = new CountingApi()) {
  const server = new AdminServer({ api, logger: silent, ...options });
  servers.push(server);
  const { port } = await server.listen("127.0.0.1:0");
  return { api, server, address: `127.0.0.1:${port}` };
}

describe("bearer token", () => {
  let api: CountingApi;
  let address: string;
  beforeAll(async () => {
    ({ api, address } = await serve({ authToken: TOKEN }));
  });

  it("answers UNAUTHENTICATED without a token, and the handler never runs", async () => {
    const before = api.calls;
    const err = await rejection(admin(address).listServices({}));
    expect(err.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(err.details).toContain("authorization: Bearer");
    expect(api.calls).toBe(before);
  });

  it("answers UNAUTHENTICATED to a wrong token without echoing it", async () => {
    const wrong = "wrong-token-that-must-not-be-echoed";
    for (const token of [wrong, `${TOKEN}x`, TOKEN.slice(0, -1)]) {
      const err = await rejection(admin(address, { token }).putService({ name: "a", spec: "" }));
      expect(err.code).toBe(grpc.status.UNAUTHENTICATED);
      expect(err.details).toBe("invalid bearer token");
    }
  });

  it("answers UNAUTHENTICATED to a malformed authorization header", async () => {
    const metadata = new grpc.Metadata();
    metadata.set("authorization", `Basic ${TOKEN}`);
    const err = await rejection(admin(address).getService({ name: "a" }, { metadata }));
    expect(err.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(err.details).not.toContain(TOKEN);
  });

  it("lets the right token through, on every unary RPC", async () => {
    const client = admin(address, { token: TOKEN });
    expect((await client.putService({ name: "a", spec: "" })).service?.name).toBe("a");
    expect((await client.listServices({})).services).toHaveLength(1);
    expect((await client.getService({ name: "b" })).service?.name).toBe("b");
    expect((await client.getPlan({ name: "b" })).plan?.name).toBe("deploy");
    expect((await client.uninstallService({ name: "b" })).service?.name).toBe("b");
  });

  it("accepts the token from per-call metadata, any case of `Bearer`", async () => {
    const metadata = new grpc.Metadata();
    metadata.set("authorization", `bearer ${TOKEN}`);
    expect((await admin(address).getService({ name: "c" }, { metadata })).service?.name).toBe("c");
  });

  it("checks server streams too (WatchUninstall)", async () => {
    const err = await rejection(drain(admin(address).watchUninstall({ names: ["a"] })));
    expect(err.code).toBe(grpc.status.UNAUTHENTICATED);
    const wrong = await rejection(drain(admin(address, { token: "nope" }).watchUninstall({ names: ["a"] })));
    expect(wrong.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(await drain(admin(address, { token: TOKEN }).watchUninstall({ names: ["a"] }))).toBe(2);
  });

  it("leaves health open", async () => {
    const health = createPromiseClient(Health, address);
    clients.push(health);
    expect((await health.check({})).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
  });

  it("leaves reflection open (buf curl --list-services)", async () => {
    const { stdout } = await promisify(execFile)(
      "node_modules/.bin/buf",
      ["curl", "--protocol", "grpc", "--http2-prior-knowledge", "--list-services", `http://${address}`],
      { timeout: 20_000 },
    );
    expect(stdout).toContain("corral.v1.MultiServiceAdmin");
  });
});

describe("bearer token on the secret RPCs and GetEndpoints", () => {
  it("refuses them without the token, the store untouched; with it they are served", async () => {
    const store = new SecretFiles(join(tempDir("edge-auth"), "secrets"));
    const { address } = await serve({ authToken: TOKEN, secrets: { store } });
    const anonymous = admin(address);
    for (const call of [
      anonymous.putSecret({ name: "s", value: Buffer.from("v") }),
      anonymous.listSecrets({}),
      anonymous.deleteSecret({ name: "s" }),
      anonymous.getEndpoints({ serviceName: "a" }),
    ]) {
      expect((await rejection(call)).code).toBe(grpc.status.UNAUTHENTICATED);
    }
    expect(await store.list()).toEqual([]);
    const client = admin(address, { token: TOKEN });
    await client.putSecret({ name: "s", value: Buffer.from("v") });
    expect((await client.listSecrets({})).secrets.map((e) => e.name)).toEqual(["s"]);
    expect((await client.deleteSecret({ name: "s" })).existed).toBe(true);
  });
});

describe("listen refuses a non-loopback address without protection", () => {
  it.each(["0.0.0.0:0", "[::]:0", "192.0.2.1:0", ":0", "example.com:50051"])("%s", async (address) => {
    const server = new AdminServer({ api: new CountingApi(), logger: silent });
    await expect(server.listen(address)).rejects.toThrow(/refusing to listen on .* --auth-token-file/);
    await server.stop(100);
  });

  it("binds 0.0.0.0:0 with a token", async () => {
    const server = new AdminServer({ api: new CountingApi(), logger: silent, authToken: TOKEN });
    servers.push(server);
    const { port } = await server.listen("0.0.0.0:0");
    const err = await rejection(admin(`127.0.0.1:${port}`).listServices({}));
    expect(err.code).toBe(grpc.status.UNAUTHENTICATED);
    expect((await admin(`127.0.0.1:${port}`, { token: TOKEN }).listServices({})).services).toHaveLength(1);
  });

  it.each([
    ["127.0.0.1", true],
    ["127.8.9.10", true],
    ["::1", true],
    ["0:0:0:0:0:0:0:1", true],
    ["::ffff:127.0.0.1", true],
    ["LocalHost", true],
    ["0.0.0.0", false],
    ["::", false],
    ["128.0.0.1", false],
    ["localhost.example.com", false],
    ["", false],
  ])("isLoopbackHost(%j) is %s", (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });
});

describe("mutual TLS", () => {
  let pki: TestPki;
  let address: string;
  beforeAll(async () => {
    pki = makeTestPki();
    const tls = { cert: pki.pem(pki.serverCert), key: pki.pem(pki.serverKey), clientCa: pki.pem(pki.caCert) };
    ({ address } = await serve({ tls }));
  });

  const creds = (cert?: string, key?: string): grpc.ChannelCredentials =>
    cert === undefined || key === undefined
      ? grpc.credentials.createSsl(pki.pem(pki.caCert))
      : grpc.credentials.createSsl(pki.pem(pki.caCert), pki.pem(key), pki.pem(cert));

  it("serves a client with a certificate from the client CA", async () => {
    const client = admin(address, { credentials: creds(pki.clientCert, pki.clientKey) });
    expect((await client.listServices({})).services).toHaveLength(1);
    expect(await drain(client.watchUninstall({ names: ["a"] }))).toBe(2);
  });

  it("refuses a client without a certificate", async () => {
    const err = await rejection(admin(address, { credentials: creds() }).listServices({}));
    expect(err.code).toBe(grpc.status.UNAVAILABLE);
  });

  it("refuses a client whose certificate another CA signed", async () => {
    const err = await rejection(admin(address, { credentials: creds(pki.strangerCert, pki.strangerKey) }).listServices({}));
    expect(err.code).toBe(grpc.status.UNAVAILABLE);
  });

  it("refuses a plaintext client", async () => {
    const err = await rejection(admin(address).listServices({}));
    expect(err.code).toBe(grpc.status.UNAVAILABLE);
  });

  it("combines with a token: both are required", async () => {
    const tls = { cert: pki.pem(pki.serverCert), key: pki.pem(pki.serverKey), clientCa: pki.pem(pki.caCert) };
    const both = await serve({ tls, authToken: TOKEN });
    const credentials = creds(pki.clientCert, pki.clientKey);
    const err = await rejection(admin(both.address, { credentials }).listServices({}));
    expect(err.code).toBe(grpc.status.UNAUTHENTICATED);
    expect((await admin(both.address, { credentials, token: TOKEN }).listServices({})).services).toHaveLength(1);
  });
});
