import { describe, expect, it } from "vitest";
import { resolveOptions } from "./config.js";

describe("resolveOptions", () => {
  it("has the documented defaults", () => {
    expect(resolveOptions([], {})).toEqual({
      listen: "127.0.0.1:50051",
      cluster: "local",
      localAgents: 1,
      simAgents: 3,
      store: "sqlite",
      dataDir: "./.corral",
      waitForLockMs: 0,
      frameworkName: "corral",
      role: "corral-role",
      principal: "corral-principal",
      logLevel: "info",
      specWorkers: 1,
      serviceRemovalTimeoutMs: 600_000,
      uninstall: false,
      stayAfterUninstall: false,
      eventRetention: 10_000,
      eventMaxAgeMs: 7 * 24 * 3600 * 1000,
      taskPath: "/usr/local/bin:/usr/bin:/bin",
    });
  });

  it("takes the environment, and flags over the environment", () => {
    const env = { CORRAL_LISTEN: "127.0.0.1:6000", CORRAL_SIM_AGENTS: "5", CORRAL_FRAMEWORK_NAME: "fw" };
    expect(resolveOptions([], env)).toMatchObject({ listen: "127.0.0.1:6000", simAgents: 5, role: "fw-role" });
    expect(resolveOptions(["--listen", "127.0.0.1:0", "--sim-agents", "2"], env)).toMatchObject({
      listen: "127.0.0.1:0",
      simAgents: 2,
    });
  });

  it("accepts a ZooKeeper store address", () => {
    expect(resolveOptions(["--store", "zk://127.0.0.1:2181,127.0.0.1:2182/corral"], {}).store).toBe(
      "zk://127.0.0.1:2181,127.0.0.1:2182/corral",
    );
  });

  it("takes the API security files from flags or the environment", () => {
    const env = { CORRAL_AUTH_TOKEN_FILE: "/env/token", CORRAL_TLS_CERT: "c", CORRAL_TLS_KEY: "k", CORRAL_TLS_CLIENT_CA: "ca" };
    expect(resolveOptions(["--listen", "0.0.0.0:1"], env)).toMatchObject({
      authTokenFile: "/env/token",
      tlsCert: "c",
      tlsKey: "k",
      tlsClientCa: "ca",
    });
    expect(resolveOptions(["--auth-token-file", "/flag/token"], env).authTokenFile).toBe("/flag/token");
    expect(resolveOptions(["--listen", "0.0.0.0:1", "--auth-token-file", "t"], {}).listen).toBe("0.0.0.0:1");
    expect(resolveOptions(["--listen", "[::1]:1"], {}).listen).toBe("[::1]:1");
  });

  it.each([
    { name: "unprotected non-loopback listen", argv: ["--listen", "0.0.0.0:50051"], env: {} },
    { name: "unprotected non-loopback listen env", argv: [], env: { CORRAL_LISTEN: "192.0.2.1:50051" } },
    { name: "TLS without a key", argv: ["--tls-cert", "c", "--tls-client-ca", "ca"], env: {} },
    { name: "unknown cluster flag", argv: ["--cluster", "mesos"], env: {} },
    { name: "unknown cluster env", argv: [], env: { CORRAL_CLUSTER: "mesos" } },
    { name: "zero agents flag", argv: ["--sim-agents", "0"], env: {} },
    { name: "bad agents env", argv: [], env: { CORRAL_SIM_AGENTS: "x" } },
    { name: "unknown store", argv: ["--store", "redis"], env: {} },
    { name: "zk store without a host", argv: ["--store", "zk:///chroot"], env: {} },
    { name: "negative lock wait", argv: ["--wait-for-lock", "-1"], env: {} },
  ])("rejects $name", ({ argv, env }) => {
    expect(() => resolveOptions(argv, env)).toThrow();
  });
});
