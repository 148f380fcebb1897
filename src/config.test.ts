import { userInfo } from "node:os";
import { CommanderError } from "commander";
import { describe, expect, it } from "vitest";
import { normalizeListen, resolveOptions, schedulerCommand } from "./config.js";

/** What resolveOptions prints to stderr before throwing, and the exit code it throws. */
function refusal(argv: string[], env: NodeJS.ProcessEnv = {}): { stderr: string; exitCode: number } {
  let stderr = "";
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string) => ((stderr += chunk), true)) as typeof process.stderr.write;
  try {
    resolveOptions(argv, env);
  } catch (err) {
    if (err instanceof CommanderError) return { stderr, exitCode: err.exitCode };
    throw err;
  } finally {
    process.stderr.write = write;
  }
  throw new Error(`accepted ${argv.join(" ")}`);
}

describe("resolveOptions", () => {
  it("has the documented defaults", () => {
    expect(resolveOptions([], {})).toEqual({
      listen: "127.0.0.1:50051",
      cluster: "local",
      localAgents: 1,
      preReservedRoles: [],
      simAgents: 3,
      store: "sqlite",
      dataDir: "./.corral",
      agentDir: ".corral/agent",
      frameworkUser: userInfo().username,
      waitForLockMs: 0,
      zkSessionTimeoutMs: 10_000,
      metricsListen: "127.0.0.1:9464",
      metricsListenExplicit: false,
      frameworkName: "corral",
      role: "corral-role",
      principal: "corral-principal",
      logLevel: "info",
      logFormat: "json",
      specWorkers: 1,
      maxParallelDeploys: 0,
      replaceUnreachableAfterMs: 0,
      serviceRemovalTimeoutMs: 600_000,
      uninstall: false,
      stayAfterUninstall: false,
      eventRetention: 10_000,
      eventMaxAgeMs: 7 * 24 * 3600 * 1000,
      taskPath: "/usr/local/bin:/usr/bin:/bin",
      tracesPerSecond: 10,
      mode: "dynamic",
      servicePaths: [],
      parameters: {},
    });
  });

  it("points --cluster mesos at its master and refuses a master without it, or none with it", () => {
    const o = resolveOptions(["--cluster", "mesos", "--master", "zk://zk1:2181,zk2:2181/mesos", "--mesos-secret-file", "s", "--framework-user", "svc"], {});
    expect(o).toMatchObject({ cluster: "mesos", master: "zk://zk1:2181,zk2:2181/mesos", mesosSecretFile: "s", frameworkUser: "svc" });
    expect(resolveOptions([], { CORRAL_CLUSTER: "mesos", CORRAL_MASTER: "http://m:5050" }).master).toBe("http://m:5050");
    expect(resolveOptions(["--agent-dir", "/srv/agent"], {}).agentDir).toBe("/srv/agent");
    expect(resolveOptions([], { CORRAL_AGENT_RESOURCES: "cpus:16;mem:65536" }).agentResources).toBe("cpus:16;mem:65536");
    expect(() => resolveOptions(["--agent-resources", "cpus:lots"], {})).toThrow(CommanderError);
    for (const argv of [["--cluster", "mesos"], ["--master", "http://m:5050"], ["--cluster", "mesos", "--master", "ftp://m"], ["--cluster", "mesos", "--master", "zk://zk:2181"]]) {
      expect(() => resolveOptions(argv, {}), argv.join(" ")).toThrow(CommanderError);
    }
  });

  it("passes the local agent's ports and pre-reserved pools, and subscribes below each pre-reserved role", () => {
    const o = resolveOptions(["--agent-ports", "8000-8999,9999", "--agent-pre-reserved", "pool:cpus=1,mem=512", "--pre-reserved-role", "slave_public", "--pre-reserved-role", "pool"], {});
    expect(o).toMatchObject({ agentPorts: "8000-8999,9999", agentPreReserved: "pool:cpus=1,mem=512", preReservedRoles: ["slave_public", "pool"] });
    const env = { CORRAL_AGENT_PORTS: "9000-9100", CORRAL_AGENT_PRE_RESERVED: "a:cpus=1;b:mem=64", CORRAL_PRE_RESERVED_ROLES: "x, y" };
    expect(resolveOptions([], env)).toMatchObject({ agentPorts: "9000-9100", preReservedRoles: ["x", "y", "a", "b"] });
    expect(resolveOptions(["--pre-reserved-role", "z"], env).preReservedRoles).toEqual(["z", "a", "b"]);
    // Only the local agent has the pools of --agent-pre-reserved.
    expect(resolveOptions(["--cluster", "sim"], env).preReservedRoles).toEqual(["x", "y"]);
    expect(refusal(["--agent-ports", "70000"]).stderr).toMatch(/^corral: --agent-ports \/ CORRAL_AGENT_PORTS expects port ranges/);
    expect(refusal(["--agent-pre-reserved", "pool:gpus=1"]).stderr).toMatch(/^corral: --agent-pre-reserved \/ CORRAL_AGENT_PRE_RESERVED pool: expects/);
    expect(refusal([], { CORRAL_PRE_RESERVED_ROLES: "ok,*" }).stderr).toMatch(/^corral: --pre-reserved-role \/ CORRAL_PRE_RESERVED_ROLES: '\*' is not a role/);
  });

  it("takes the environment, and flags over the environment", () => {
    const env = { CORRAL_LISTEN: "127.0.0.1:6000", CORRAL_SIM_AGENTS: "5", CORRAL_FRAMEWORK_NAME: "fw" };
    expect(resolveOptions([], env)).toMatchObject({ listen: "127.0.0.1:6000", simAgents: 5, role: "fw-role" });
    expect(resolveOptions(["--listen", "127.0.0.1:0", "--sim-agents", "2"], env)).toMatchObject({
      listen: "127.0.0.1:0",
      simAgents: 2,
    });
  });

  it("limits parallel deploys from the flag or the environment; 0 is unlimited", () => {
    expect(resolveOptions(["--max-parallel-deploys", "5"], {}).maxParallelDeploys).toBe(5);
    expect(resolveOptions([], { CORRAL_MAX_PARALLEL_DEPLOYS: "2" }).maxParallelDeploys).toBe(2);
    expect(resolveOptions(["--max-parallel-deploys", "0"], { CORRAL_MAX_PARALLEL_DEPLOYS: "2" }).maxParallelDeploys).toBe(0);
    expect(resolveOptions(["--replace-unreachable-after", "90"], {}).replaceUnreachableAfterMs).toBe(90_000);
    expect(resolveOptions([], { CORRAL_REPLACE_UNREACHABLE_AFTER: "1.5" }).replaceUnreachableAfterMs).toBe(1500);
    expect(refusal(["--replace-unreachable-after", "-1"]).stderr).toMatch(/^corral: --replace-unreachable-after/);
    expect(refusal(["--max-parallel-deploys", "-1"]).stderr).toMatch(/^corral: option '--max-parallel-deploys <n>' argument '-1' is invalid/);
    expect(refusal([], { CORRAL_MAX_PARALLEL_DEPLOYS: "1.5" }).stderr).toBe("corral: CORRAL_MAX_PARALLEL_DEPLOYS must be an integer ≥ 0\n");
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
    { given: ":0", listen: "127.0.0.1:0" },
    { given: ":50051", listen: "127.0.0.1:50051" },
    { given: "localhost:7000", listen: "localhost:7000" },
    { given: "[::1]:0", listen: "[::1]:0" },
  ])("listens on $listen for --listen $given", ({ given, listen }) => {
    expect(resolveOptions(["--listen", given], {}).listen).toBe(listen);
    expect(resolveOptions([], { CORRAL_LISTEN: given }).listen).toBe(listen);
  });

  it.each(["50051", "127.0.0.1", "127.0.0.1:65536", "::1:50051", "[]:1", "127.0.0.1:port"])("refuses --listen %s", (given) => {
    expect(() => normalizeListen(given)).toThrow(/host:port/);
    expect(refusal(["--listen", given]).stderr).toMatch(/^corral: --listen \/ CORRAL_LISTEN must be host:port/);
  });

  it("logs pretty on a terminal and JSON otherwise, unless told", () => {
    expect(resolveOptions([], {}, true).logFormat).toBe("pretty");
    expect(resolveOptions([], {}, false).logFormat).toBe("json");
    expect(resolveOptions([], { CORRAL_LOG_FORMAT: "json" }, true).logFormat).toBe("json");
    expect(resolveOptions(["--log-format", "pretty"], { CORRAL_LOG_FORMAT: "json" }).logFormat).toBe("pretty");
    expect(refusal(["--log-format", "xml"]).stderr).toMatch(/^corral: option '--log-format <format>' argument 'xml' is invalid/);
    expect(refusal([], { CORRAL_LOG_FORMAT: "xml" }).stderr).toBe("corral: CORRAL_LOG_FORMAT must be one of: json, pretty\n");
  });

  it("names every option's environment variable in its help", () => {
    const options = schedulerCommand({}).options;
    expect(options.length).toBeGreaterThan(15);
    // Template parameters hold any text (no list separator is safe), and the store commands run once, by hand.
    const byHand = ["--param", "--list-backups", "--restore-backup"];
    const unnamed = options.filter((o) => !/\bCORRAL_[A-Z_]+\b/.test(o.description) && !byHand.includes(o.long ?? "")).map((o) => o.long);
    expect(unnamed).toEqual([]);
    expect(schedulerCommand({}).helpInformation()).toContain("--wait-for-lock <seconds>");
  });

  it.each([
    { name: "an unknown option", argv: ["--bogus"], env: {} },
    { name: "a bad choice", argv: ["--cluster", "mesos"], env: {} },
    { name: "a bad environment value", argv: [], env: { CORRAL_SIM_AGENTS: "x" } },
    { name: "a bad lock wait", argv: ["--wait-for-lock", "-1"], env: {} },
    { name: "an unprotected address", argv: ["--listen", "0.0.0.0:1"], env: {} },
  ])("prints one corral: line and exits 1 for $name", ({ argv, env }) => {
    const { stderr, exitCode } = refusal(argv, env);
    expect(stderr).toMatch(/^corral: [^\n]+\n$/);
    expect(exitCode).toBe(1);
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

describe("service modes", () => {
  it("takes static mode's files, mono mode's file and -p parameters from flags", () => {
    expect(resolveOptions(["--mode", "static", "--services", "specs", "extra/db.yml", "-p", "COUNT=2", "-p", "OPTS=a=b,c", "-p", "COUNT=3"], {})).toMatchObject({
      mode: "static",
      servicePaths: ["specs", "extra/db.yml"],
      parameters: { COUNT: "3", OPTS: "a=b,c" },
    });
    expect(resolveOptions(["--mode", "mono", "--framework-name", "hello-world", "--service", "hello-world.yml", "-p", "X="], {})).toMatchObject({
      mode: "mono",
      frameworkName: "hello-world",
      servicePaths: ["hello-world.yml"],
      parameters: { X: "" },
    });
  });

  it("needs no spec file to uninstall: --uninstall removes what is stored", () => {
    expect(resolveOptions(["--mode", "mono", "--framework-name", "hello-world", "--uninstall"], {})).toMatchObject({ mode: "mono", uninstall: true, servicePaths: [] });
    expect(resolveOptions(["--mode", "static", "--uninstall"], {})).toMatchObject({ mode: "static", uninstall: true, servicePaths: [] });
  });

  it("takes them from CORRAL_MODE, CORRAL_SERVICES (a comma list) and CORRAL_SERVICE; flags win", () => {
    expect(resolveOptions([], { CORRAL_MODE: "static", CORRAL_SERVICES: "a, b/c.yaml,," })).toMatchObject({ mode: "static", servicePaths: ["a", "b/c.yaml"] });
    expect(resolveOptions(["--services", "d"], { CORRAL_MODE: "static", CORRAL_SERVICES: "a,b" }).servicePaths).toEqual(["d"]);
    expect(resolveOptions([], { CORRAL_MODE: "mono", CORRAL_SERVICE: "one.yml" })).toMatchObject({ mode: "mono", servicePaths: ["one.yml"] });
    expect(resolveOptions(["--mode", "dynamic"], { CORRAL_MODE: "mono" })).toMatchObject({ mode: "dynamic", servicePaths: [] });
  });

  it.each([
    { name: "--services without static mode", argv: ["--services", "d"], env: {}, says: "--services / CORRAL_SERVICES is for --mode static (the mode is dynamic)" },
    { name: "CORRAL_SERVICES in mono mode", argv: ["--mode", "mono", "--service", "f"], env: { CORRAL_SERVICES: "d" }, says: "--services / CORRAL_SERVICES is for --mode static (the mode is mono)" },
    { name: "--service without mono mode", argv: ["--mode", "static", "--services", "d", "--service", "f"], env: {}, says: "--service / CORRAL_SERVICE is for --mode mono (the mode is static)" },
    { name: "static mode without files", argv: ["--mode", "static"], env: {}, says: "--mode static needs --services" },
    { name: "mono mode without a file", argv: [], env: { CORRAL_MODE: "mono" }, says: "--mode mono needs --service FILE" },
    { name: "-p in dynamic mode", argv: ["-p", "A=1"], env: {}, says: "-p / --param is for --mode static or mono" },
    { name: "an unknown mode", argv: ["--mode", "multi"], env: {}, says: "option '--mode <mode>' argument 'multi' is invalid" },
    { name: "an unknown CORRAL_MODE", argv: [], env: { CORRAL_MODE: "Static" }, says: "CORRAL_MODE must be one of: dynamic, static, mono" },
    { name: "a preset SERVICE_NAME", argv: ["--mode", "mono", "--service", "f", "-p", "SERVICE_NAME=x"], env: {}, says: "SERVICE_NAME is preset by the scheduler" },
    { name: "a preset FRAMEWORK_NAME", argv: ["--mode", "static", "--services", "d", "--param", "FRAMEWORK_NAME=x"], env: {}, says: "FRAMEWORK_NAME is preset by the scheduler" },
    { name: "a parameter without =", argv: ["--mode", "mono", "--service", "f", "-p", "COUNT"], env: {}, says: 'expected KEY=VALUE, got "COUNT"' },
    { name: "an empty parameter name", argv: ["--mode", "mono", "--service", "f", "-p", "=1"], env: {}, says: 'expected KEY=VALUE, got "=1"' },
    { name: "a bad TASKCFG_ name", argv: ["--mode", "mono", "--service", "f", "-p", "TASKCFG_a-b=1"], env: {}, says: "TASKCFG_a-b: a TASKCFG_ parameter becomes an environment variable" },
    { name: "a control character in a name", argv: ["--mode", "mono", "--service", "f", "-p", "A\tB=1"], env: {}, says: "A\tB: name" },
  ])("refuses $name with one corral: line, exit 1", ({ argv, env, says }) => {
    const { stderr, exitCode } = refusal(argv, env);
    expect(stderr).toMatch(/^corral: [^\n]+\n$/);
    expect(stderr).toContain(says);
    expect(exitCode).toBe(1);
  });
});

describe("the store commands", () => {
  it("--list-backups and --restore-backup [name] are commands on the configured store", () => {
    expect(resolveOptions(["--list-backups", "--data-dir", "/srv/corral"], {})).toMatchObject({ storeCommand: { kind: "list-backups" }, dataDir: "/srv/corral" });
    expect(resolveOptions(["--restore-backup", "--store", "zk://zk:2181/corral", "--framework-name", "hello-world"], {})).toMatchObject({
      storeCommand: { kind: "restore-backup" },
      store: "zk://zk:2181/corral",
      frameworkName: "hello-world",
    });
    expect(resolveOptions(["--restore-backup", "backup-2026-12-05-011500"], {}).storeCommand).toEqual({ kind: "restore-backup", backup: "backup-2026-12-05-011500" });
    expect(resolveOptions([], {}).storeCommand).toBeUndefined();
  });

  it.each([
    { name: "both commands", argv: ["--list-backups", "--restore-backup"], env: {}, says: "--list-backups and --restore-backup are separate commands" },
    { name: "a restore with --uninstall", argv: ["--restore-backup", "--uninstall"], env: {}, says: "--restore-backup works on a stopped scheduler's store" },
    { name: "a listing with SDK_UNINSTALL", argv: ["--list-backups"], env: { SDK_UNINSTALL: "" }, says: "--list-backups works on a stopped scheduler's store" },
    { name: "an empty backup name", argv: ["--restore-backup="], env: {}, says: "--restore-backup takes a backup's name" },
  ])("refuses $name", ({ argv, env, says }) => {
    const { stderr, exitCode } = refusal(argv, env);
    expect(stderr).toMatch(/^corral: [^\n]+\n$/);
    expect(stderr).toContain(says);
    expect(exitCode).toBe(1);
  });
});
