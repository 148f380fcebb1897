/**
 * API security through the real composition root: resolveOptions + startCorral refuse an
 * unprotected non-loopback listen address and bad token/TLS files with a message naming the
 * fix; a protected 0.0.0.0:0 serves (memory store, simulated cluster).
 */
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCorral } from "../../src/app.js";
import type { Corral } from "../../src/app.js";
import { resolveOptions } from "../../src/config.js";
import { Health, HealthCheckResponse_ServingStatus, PutOutcome, createAdminClient, createPromiseClient } from "../../src/client/index.js";
import { makeTestPki } from "../grpc-edge-certs.js";
import type { TestPki } from "../grpc-edge-certs.js";
import { tempDir } from "../use-temp-dir.js";

const TOKEN = "e2e-token-5f0c1b7a9d";
const silent = pino({ level: "silent" });
const dir = tempDir("auth");

function tokenFile(name: string, content: string, mode: number): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  chmodSync(path, mode);
  return path;
}

const SIMPLE = `name: {{SERVICE_NAME}}
pods:
  hello:
    count: 1
    tasks:
      server:
        goal: RUNNING
        cmd: "echo hello"
        cpus: 0.1
        memory: 32
`;

const running: Corral[] = [];
const closers: Array<{ close(): void }> = [];
afterAll(async () => {
  for (const c of closers) c.close();
  for (const c of running) await c.stop();
});

async function start(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<Corral> {
  const corral = await startCorral(resolveOptions(["--cluster", "sim", "--store", "memory", ...argv], env), silent);
  running.push(corral);
  return corral;
}

const port = (corral: Corral): string => corral.address.slice(corral.address.lastIndexOf(":") + 1);

async function rejection(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  return promise.then(
    () => expect.fail("expected the call to fail"),
    (err: grpc.ServiceError) => err,
  );
}

describe("refuses to start", () => {
  it.each([
    { argv: ["--listen", "0.0.0.0:50051"], env: {} },
    { argv: ["--listen", "[::]:50051"], env: {} },
    { argv: [], env: { CORRAL_LISTEN: "10.1.2.3:50051" } },
  ])("unprotected non-loopback listen $argv $env", ({ argv, env }) => {
    expect(() => resolveOptions(argv, env)).toThrow(
      /refusing to listen on \S+ without authentication: PutService runs commands on this machine\. Give --auth-token-file FILE .* or --tls-cert, --tls-key and --tls-client-ca/,
    );
  });

  it("with only part of the TLS files", () => {
    expect(() => resolveOptions(["--tls-cert", "c.pem", "--listen", "0.0.0.0:1"], {})).toThrow(
      /mutual TLS needs --tls-cert, --tls-key and --tls-client-ca together; missing --tls-key, --tls-client-ca/,
    );
  });

  it("when startCorral is given unprotected non-loopback options directly", async () => {
    const options = { ...resolveOptions(["--cluster", "sim", "--store", "memory"], {}), listen: "0.0.0.0:0" };
    await expect(startCorral(options, silent)).rejects.toThrow(/refusing to listen on 0\.0\.0\.0:0/);
  });

  it.each([
    { name: "world-readable", file: () => tokenFile("open", TOKEN, 0o644), message: /readable by every user \(mode 644\).*chmod 600/ },
    { name: "empty", file: () => tokenFile("empty", " \n\t\n", 0o600), message: /is empty/ },
    { name: "missing", file: () => join(dir, "nope"), message: /--auth-token-file \S+nope: no such file/ },
    { name: "a directory", file: () => dir, message: /not a regular file/ },
  ])("with a token file that is $name", async ({ file, message }) => {
    const options = resolveOptions(["--cluster", "sim", "--store", "memory", "--listen", "0.0.0.0:0", "--auth-token-file", file()], {});
    await expect(startCorral(options, silent)).rejects.toThrow(message);
  });

  describe("with bad TLS files", () => {
    let pki: TestPki;
    beforeAll(() => {
      pki = makeTestPki();
    });
    it("a key that is not the certificate's", async () => {
      const argv = ["--tls-cert", pki.serverCert, "--tls-key", pki.clientKey, "--tls-client-ca", pki.caCert];
      await expect(startCorral(resolveOptions(["--cluster", "sim", "--store", "memory", ...argv], {}), silent)).rejects.toThrow(
        /--tls-key \S+ is not the key of --tls-cert/,
      );
    });
    it("a certificate that is not PEM", async () => {
      const argv = ["--tls-cert", pki.serverKey, "--tls-key", pki.serverKey, "--tls-client-ca", pki.caCert];
      await expect(startCorral(resolveOptions(["--cluster", "sim", "--store", "memory", ...argv], {}), silent)).rejects.toThrow(
        /--tls-cert \S+: not a PEM certificate/,
      );
    });
  });
});

describe("0.0.0.0:0 with a bearer token", () => {
  let corral: Corral;
  beforeAll(async () => {
    corral = await start(["--listen", "0.0.0.0:0", "--auth-token-file", tokenFile("token", `${TOKEN}\n`, 0o600)]);
  });

  it("answers UNAUTHENTICATED without the token and serves with it (trailing newline trimmed)", async () => {
    const anonymous = createAdminClient({ address: `127.0.0.1:${port(corral)}`, defaultDeadlineMs: 10_000 });
    const admin = createAdminClient({ address: `127.0.0.1:${port(corral)}`, defaultDeadlineMs: 10_000, token: TOKEN });
    closers.push(anonymous, admin);
    expect((await rejection(anonymous.putService({ name: "hello", spec: SIMPLE }))).code).toBe(grpc.status.UNAUTHENTICATED);
    expect((await admin.listServices({})).services).toEqual([]);
    expect((await admin.putService({ name: "hello", spec: SIMPLE })).outcome).toBe(PutOutcome.CREATED);
    expect((await rejection(anonymous.getService({ name: "hello" }))).code).toBe(grpc.status.UNAUTHENTICATED);
    expect((await admin.getService({ name: "hello" })).service?.name).toBe("hello");
  });

  it("keeps health open", async () => {
    const health = createPromiseClient(Health, `127.0.0.1:${port(corral)}`);
    closers.push(health);
    expect((await health.check({})).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
  });
});

describe("0.0.0.0:0 with mutual TLS from the environment", () => {
  let corral: Corral;
  let pki: TestPki;
  beforeAll(async () => {
    pki = makeTestPki();
    corral = await start([], {
      CORRAL_LISTEN: "0.0.0.0:0",
      CORRAL_TLS_CERT: pki.serverCert,
      CORRAL_TLS_KEY: pki.serverKey,
      CORRAL_TLS_CLIENT_CA: pki.caCert,
    });
  });

  it("serves a client with a certificate and refuses one without", async () => {
    const ca = pki.pem(pki.caCert);
    const withCert = createAdminClient({
      address: `127.0.0.1:${port(corral)}`,
      defaultDeadlineMs: 10_000,
      credentials: grpc.credentials.createSsl(ca, pki.pem(pki.clientKey), pki.pem(pki.clientCert)),
    });
    const withoutCert = createAdminClient({
      address: `127.0.0.1:${port(corral)}`,
      defaultDeadlineMs: 10_000,
      credentials: grpc.credentials.createSsl(ca),
    });
    closers.push(withCert, withoutCert);
    expect((await withCert.listServices({})).services).toEqual([]);
    expect((await rejection(withoutCert.listServices({}))).code).toBe(grpc.status.UNAVAILABLE);
  });
});
