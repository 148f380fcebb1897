/**
 * Scheduler options: flags win over environment variables, which win over defaults.
 * `resolveOptions` validates everything up front so a bad setting fails at start, not later.
 */
import { Command, InvalidArgumentError, Option } from "commander";
import { userInfo } from "node:os";
import { join } from "node:path";
import { parsePortRanges } from "./adapters/cluster/agent/free-ports.js";
import { parseAgentResources } from "./adapters/cluster/agent/machine-resources.js";
import { parsePreReserved, roleProblem } from "./adapters/cluster/agent/pre-reserved.js";
import { apiSecurityProblem } from "./adapters/grpc/auth.js";
import type { ApiSecurityFiles } from "./adapters/grpc/auth.js";
import { ERROR_PREFIX } from "./error-prefix.js";
import { addModeOptions, modeOptions } from "./config-modes.js";
import { addHaOptions, haOptions } from "./config-ha.js";
import type { HaOptions } from "./config-ha.js";
import type { ModeOptions } from "./config-modes.js";

export interface ResolvedOptions extends ApiSecurityFiles, ModeOptions, HaOptions {
  /**
   * host:port of the gRPC API. @default "127.0.0.1:50051". A non-loopback address needs
   * `authTokenFile` or the three TLS files (ApiSecurityFiles; checked here, read by startCorral).
   */
  readonly listen: string;
  /**
   * Cluster: this machine through the local agent (`local`), a Mesos master (`mesos`, with
   * `master`), both through the one Mesos driver; or the in-process simulated cluster (`sim`,
   * for tests and benchmarks). @default "local"
   */
  readonly cluster: "local" | "mesos" | "sim";
  /** The Mesos master for `--cluster mesos`: http(s)://host:5050 or zk://host:2181/mesos. */
  readonly master?: string;
  /** The principal's secret for HTTP basic authentication against the master (file, first line). */
  readonly mesosSecretFile?: string;
  /** CA bundle (PEM) to verify an https master. */
  readonly mesosCaFile?: string;
  /** FrameworkInfo.user: tasks run as this Unix user unless their spec names one. @default the scheduler's user */
  readonly frameworkUser: string;
  /** The local agent's state directory. @default "<data-dir>/agent" */
  readonly agentDir: string;
  /** Agents the local agent splits this machine into. @default 1 */
  readonly localAgents: number;
  /** What the local agent offers instead of what it measures: `cpus:N;mem:MB;disk:MB` (Mesos' `--resources`). */
  readonly agentResources?: string;
  /** `--agent-ports a-b,c-d`: the ports the local agent offers (less those in use). @default 1024–65535 */
  readonly agentPorts?: string;
  /** `--agent-pre-reserved R:cpus=N,mem=MB,disk=MB[;…]`: pools the local agent reserves statically for roles. */
  readonly agentPreReserved?: string;
  /**
   * Pre-reserved roles R whose resources the scheduler may use (`--pre-reserved-role`, and the
   * roles of `--agent-pre-reserved` on the local cluster): it subscribes with `R/<role>` too.
   * @default none
   */
  readonly preReservedRoles: readonly string[];
  /** Agents of the simulated cluster. @default 3 */
  readonly simAgents: number;
  /**
   * State store: embedded SQLite in the data directory, memory (lost on exit), or ZooKeeper
   * (`zk://host:port[,host:port]/chroot`; the scheduler's root is `<chroot>/dcos-service-<name>`).
   * @default "sqlite"
   */
  readonly store: "sqlite" | "memory" | `zk://${string}`;
  /** Where the SQLite store and its lock live. @default "./.corral" */
  readonly dataDir: string;
  /** Wait this long for another scheduler to release the data directory's lock. @default 0 (refuse at once) */
  readonly waitForLockMs: number;
  /** Name the scheduler registers under. @default "corral" */
  readonly frameworkName: string;
  readonly role: string;
  readonly principal: string;
  /** A removal not done after this long completes anyway (FORCED); 0 = never. @default 600_000 */
  readonly serviceRemovalTimeoutMs: number;
  /** Uninstall the whole scheduler (CORRAL_UNINSTALL=true, or SDK_UNINSTALL set). @default false */
  readonly uninstall: boolean;
  /** After a whole-scheduler uninstall, keep serving (health NOT_SERVING) instead of exiting 0. @default false */
  readonly stayAfterUninstall: boolean;
  /** Uninstall events kept for WatchUninstall: this many, for this long. @default 10_000, 7 days */
  readonly eventRetention: number;
  readonly eventMaxAgeMs: number;
  /** PATH given to the local cluster's tasks: the scheduler's own. */
  readonly taskPath: string;
  /** pino level. @default "info" */
  readonly logLevel: string;
  /**
   * How log lines are written to stdout: pino's JSON, one object a line, for machines (`json`),
   * or readable lines through pino-pretty for people (`pretty`).
   * @default "pretty" when stdout is a terminal, "json" otherwise
   */
  readonly logFormat: LogFormat;
  /**
   * Worker threads that build PutService specs off the event loop (render, YAML, validation);
   * 0 builds them on the event loop, where a large or hostile spec stalls every other call.
   * @default 1
   */
  readonly specWorkers: number;
  /**
   * At most this many services acquire new resources (deploy) at once, admitted in the order
   * they started deploying; the admitted set is stored. 0 = unlimited. @default 0
   */
  readonly maxParallelDeploys: number;
  /**
   * A pod whose RUNNING tasks stay UNREACHABLE or LOST this long is marked permanently failed and
   * moves (new reservations, its volumes destroyed); 0 = never (a network blip destroys nothing). @default 0
   */
  readonly replaceUnreachableAfterMs: number;
}

/** `json`: pino's JSON lines; `pretty`: readable lines (pino-pretty). */
export type LogFormat = "json" | "pretty";

const CLUSTERS = ["local", "mesos", "sim"];
const LOG_FORMATS: readonly LogFormat[] = ["json", "pretty"];

export { ERROR_PREFIX };

/**
 * `host:port` with the host defaulted: an empty host (`:0`, `:50051`) is 127.0.0.1, loopback
 * like the default address. Throws InvalidArgumentError for anything that is not host:port.
 */
export function normalizeListen(value: string): string {
  const m = /^(\[[^\]]*\]|[^:[\]]*):(\d{1,5})$/.exec(value);
  if (!m || Number(m[2]) > 65535 || m[1] === "[]") {
    throw new InvalidArgumentError("must be host:port (e.g. 127.0.0.1:50051, [::1]:50051, or :0 for a free loopback port)");
  }
  return m[1] === "" ? `127.0.0.1:${m[2]}` : value;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("must be a positive integer");
  return n;
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("must be an integer ≥ 0");
  return n;
}

function envInt(program: Command, name: string, value: string, parse = positiveInt): number {
  try {
    return parse(value);
  } catch (err) {
    return program.error(`${ERROR_PREFIX}${name} ${(err as Error).message}`);
  }
}

/**
 * The scheduler's command line (`npm start -- --help`): every option names its environment
 * variable, whose value is the option's default. Parsing throws CommanderError (exitOverride)
 * after printing `corral: <what is wrong>` to stderr.
 */
export function schedulerCommand(env: NodeJS.ProcessEnv, stdoutIsTty = false): Command {
  const program = new Command("corral-scheduler")
    .description("Corral multi-service scheduler")
    .exitOverride()
    // commander's own messages start "error: "; the scheduler's fatal errors all start "corral: ".
    .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, ERROR_PREFIX)) })
    .addOption(new Option("--listen <host:port>", "gRPC listen address; :0 = a free port on 127.0.0.1 (CORRAL_LISTEN)").default(env["CORRAL_LISTEN"] ?? "127.0.0.1:50051"))
    .addOption(new Option("--cluster <kind>", "cluster: local (this machine, through the local agent), mesos (--master) or sim (CORRAL_CLUSTER)").choices(CLUSTERS).default(env["CORRAL_CLUSTER"] ?? "local"))
    .addOption(new Option("--master <url>", "Mesos master for --cluster mesos: http(s)://host:5050 or zk://host:2181/mesos (CORRAL_MASTER)").default(env["CORRAL_MASTER"]))
    .addOption(new Option("--mesos-secret-file <file>", "the principal's secret for HTTP basic authentication with the master (CORRAL_MESOS_SECRET_FILE)").default(env["CORRAL_MESOS_SECRET_FILE"]))
    .addOption(new Option("--mesos-ca-file <file>", "CA bundle (PEM) to verify an https master (CORRAL_MESOS_CA_FILE)").default(env["CORRAL_MESOS_CA_FILE"]))
    .addOption(new Option("--framework-user <user>", "Unix user tasks run as unless their spec names one (CORRAL_FRAMEWORK_USER; default: the scheduler's user)").default(env["CORRAL_FRAMEWORK_USER"]))
    .addOption(new Option("--agent-dir <dir>", "the local agent's state directory (CORRAL_AGENT_DIR; default <data-dir>/agent)").default(env["CORRAL_AGENT_DIR"]))
    .addOption(new Option("--agent-resources <spec>", "what the local agent offers instead of this machine's measure, e.g. 'cpus:16;mem:65536' (CORRAL_AGENT_RESOURCES)").default(env["CORRAL_AGENT_RESOURCES"]))
    .addOption(new Option("--agent-ports <ranges>", "ports the local agent offers, e.g. '8000-8999,9999'; those in use are left out (CORRAL_AGENT_PORTS; default 1024-65535)").default(env["CORRAL_AGENT_PORTS"]))
    .addOption(new Option("--agent-pre-reserved <spec>", "pools the local agent reserves statically for roles, e.g. 'slave_public:cpus=1,mem=512' (CORRAL_AGENT_PRE_RESERVED); their roles are subscribed").default(env["CORRAL_AGENT_PRE_RESERVED"]))
    .addOption(new Option("--pre-reserved-role <role>", "a role with statically reserved resources the services' pre-reserved-role may name; repeatable (CORRAL_PRE_RESERVED_ROLES, comma-separated)").argParser((v: string, prev: string[] | string | undefined) => [...listOf(prev), v]).default(env["CORRAL_PRE_RESERVED_ROLES"]))
    .addOption(new Option("--local-agents <n>", "agents the local agent splits this machine into (CORRAL_LOCAL_AGENTS)").argParser(positiveInt).default(env["CORRAL_LOCAL_AGENTS"] ?? "1"))
    .addOption(new Option("--sim-agents <n>", "agents of the simulated cluster (CORRAL_SIM_AGENTS)").argParser(positiveInt).default(env["CORRAL_SIM_AGENTS"] ?? "3"))
    .addOption(new Option("--store <kind>", "state store: sqlite, memory or zk://host:port/chroot (CORRAL_STORE)").default(env["CORRAL_STORE"] ?? "sqlite"))
    .addOption(new Option("--data-dir <dir>", "data directory (CORRAL_DATA_DIR)").default(env["CORRAL_DATA_DIR"] ?? "./.corral"))
    .addOption(new Option("--wait-for-lock <seconds>", "wait this long for another scheduler to release the data directory and the listen port (CORRAL_WAIT_FOR_LOCK)").default(env["CORRAL_WAIT_FOR_LOCK"] ?? "0"))
    .addOption(new Option("--framework-name <name>", "framework name (CORRAL_FRAMEWORK_NAME)").default(env["CORRAL_FRAMEWORK_NAME"] ?? "corral"))
    .addOption(new Option("--role <role>", "reservation role (CORRAL_ROLE; default <framework-name>-role)").default(env["CORRAL_ROLE"]))
    .addOption(new Option("--principal <p>", "principal (CORRAL_PRINCIPAL; default <framework-name>-principal)").default(env["CORRAL_PRINCIPAL"]))
    .addOption(new Option("--log-level <level>", "log level (CORRAL_LOG_LEVEL)").choices(["trace", "debug", "info", "warn", "error"]).default(env["CORRAL_LOG_LEVEL"] ?? "info"))
    .addOption(new Option("--log-format <format>", "log lines: json (for machines) or pretty (for people) (CORRAL_LOG_FORMAT)").choices(LOG_FORMATS).default(env["CORRAL_LOG_FORMAT"] ?? (stdoutIsTty ? "pretty" : "json"), "pretty on a terminal, json otherwise"))
    .addOption(new Option("--spec-workers <n>", "threads building PutService specs off the event loop; 0 = on it (CORRAL_SPEC_WORKERS)").argParser(nonNegativeInt).default(env["CORRAL_SPEC_WORKERS"] ?? "1"))
    .addOption(new Option("--replace-unreachable-after <seconds>", "replace a pod whose tasks stay unreachable this long: new reservations, its volumes destroyed; 0 = never (CORRAL_REPLACE_UNREACHABLE_AFTER)").default(env["CORRAL_REPLACE_UNREACHABLE_AFTER"] ?? "0"))
    .addOption(new Option("--max-parallel-deploys <n>", "at most this many services acquire new resources at once; 0 = unlimited (CORRAL_MAX_PARALLEL_DEPLOYS)").argParser(nonNegativeInt).default(env["CORRAL_MAX_PARALLEL_DEPLOYS"] ?? "0"));
  // Service removal and whole-scheduler uninstall (§3.7, §3.9).
  program
    .addOption(new Option("--service-removal-timeout <seconds>", "a removal not done by then completes anyway, FORCED; 0 = never (CORRAL_SERVICE_REMOVAL_TIMEOUT)").default(env["CORRAL_SERVICE_REMOVAL_TIMEOUT"] ?? "600"))
    .addOption(new Option("--uninstall", "uninstall the whole scheduler: remove every service, wipe the state, tear the framework down (CORRAL_UNINSTALL=true, SDK_UNINSTALL)"))
    .addOption(new Option("--stay-after-uninstall", "keep serving after --uninstall finished instead of exiting 0 (CORRAL_STAY_AFTER_UNINSTALL=true)"))
    .addOption(new Option("--event-retention <n>", "uninstall events kept for WatchUninstall (CORRAL_EVENT_RETENTION)").argParser(positiveInt).default(env["CORRAL_EVENT_RETENTION"] ?? "10000"))
    .addOption(new Option("--event-max-age <hours>", "and for how long (CORRAL_EVENT_MAX_AGE)").default(env["CORRAL_EVENT_MAX_AGE"] ?? "168"));
  // API security: bearer token and/or mutual TLS (src/adapters/grpc/auth.ts).
  program
    .addOption(new Option("--auth-token-file <file>", "bearer token required on every admin RPC; mode 600 (CORRAL_AUTH_TOKEN_FILE)").default(env["CORRAL_AUTH_TOKEN_FILE"]))
    .addOption(new Option("--tls-cert <file>", "server certificate chain, PEM, for mutual TLS (CORRAL_TLS_CERT)").default(env["CORRAL_TLS_CERT"]))
    .addOption(new Option("--tls-key <file>", "server private key, PEM (CORRAL_TLS_KEY)").default(env["CORRAL_TLS_KEY"]))
    .addOption(new Option("--tls-client-ca <file>", "CA that client certificates must chain to, PEM (CORRAL_TLS_CLIENT_CA)").default(env["CORRAL_TLS_CLIENT_CA"]));
  // Service modes and the migration's offline commands (config-modes.ts).
  // Replicas, metrics and tracing (config-ha.ts).
  addHaOptions(program, env);
  return addModeOptions(program, env);
}

/**
 * Options from argv (flags) and env (CORRAL_*), checked. `stdoutIsTty` picks the default log
 * format. A bad setting prints `corral: …` and throws CommanderError (exit code 1).
 */
export function resolveOptions(argv: readonly string[], env: NodeJS.ProcessEnv, stdoutIsTty = false): ResolvedOptions {
  const program = schedulerCommand(env, stdoutIsTty);
  program.parse(argv as string[], { from: "user" });
  // Defaults taken from the environment bypass commander's own checks: check them here.
  if (!CLUSTERS.includes(program.opts<{ cluster: string }>().cluster)) {
    program.error(`${ERROR_PREFIX}CORRAL_CLUSTER must be one of: ${CLUSTERS.join(", ")}`);
  }
  const store = program.opts<{ store: string }>().store;
  if (!["sqlite", "memory"].includes(store) && !/^zk:\/\/[^/]+/.test(store)) {
    program.error(`${ERROR_PREFIX}--store / CORRAL_STORE must be sqlite, memory or zk://host:port[,host:port][/chroot]`);
  }
  const wait = Number(program.opts<{ waitForLock: string }>().waitForLock);
  if (!Number.isFinite(wait) || wait < 0) program.error(`${ERROR_PREFIX}--wait-for-lock / CORRAL_WAIT_FOR_LOCK must be a number of seconds ≥ 0`);
  const removalS = Number(program.opts<{ serviceRemovalTimeout: string }>().serviceRemovalTimeout);
  if (!Number.isFinite(removalS)) program.error(`${ERROR_PREFIX}--service-removal-timeout / CORRAL_SERVICE_REMOVAL_TIMEOUT must be a number of seconds (0 or less: never)`);
  const unreachableS = Number(program.opts<{ replaceUnreachableAfter: string }>().replaceUnreachableAfter);
  if (!Number.isFinite(unreachableS) || unreachableS < 0) program.error(`${ERROR_PREFIX}--replace-unreachable-after / CORRAL_REPLACE_UNREACHABLE_AFTER must be a number of seconds ≥ 0 (0: never)`);
  const maxAgeH = Number(program.opts<{ eventMaxAge: string }>().eventMaxAge);
  if (!Number.isFinite(maxAgeH) || maxAgeH <= 0) program.error(`${ERROR_PREFIX}--event-max-age / CORRAL_EVENT_MAX_AGE must be a positive number of hours`);
  const flags = program.opts<{ uninstall?: boolean; stayAfterUninstall?: boolean; eventRetention: number | string }>();
  const security = securityFiles(program.opts<ApiSecurityFiles>());
  const listen = checkedListen(program);
  const logFormat = program.opts<{ logFormat: string }>().logFormat;
  if (!(LOG_FORMATS as readonly string[]).includes(logFormat)) {
    program.error(`${ERROR_PREFIX}CORRAL_LOG_FORMAT must be one of: ${LOG_FORMATS.join(", ")}`);
  }
  const insecure = apiSecurityProblem(listen, security);
  if (insecure !== undefined) program.error(`${ERROR_PREFIX}${insecure}`);
  const mesos = mesosOptions(program);
  const o = program.opts<{
    listen: string;
    cluster: "local" | "mesos" | "sim";
    localAgents: number | string;
    simAgents: number | string;
    store: ResolvedOptions["store"];
    dataDir: string;
    frameworkName: string;
    role?: string;
    principal?: string;
    logLevel: string;
    specWorkers: number | string;
    maxParallelDeploys: number | string;
  }>();
  // The reference uninstalls when SDK_UNINSTALL is set to anything, even empty.
  const uninstall = flags.uninstall === true || env["CORRAL_UNINSTALL"] === "true" || env["SDK_UNINSTALL"] !== undefined;
  return {
    listen,
    cluster: o.cluster,
    ...modeOptions(program, uninstall),
    ...haOptions(program),
    localAgents: typeof o.localAgents === "string" ? envInt(program, "CORRAL_LOCAL_AGENTS", o.localAgents) : o.localAgents,
    simAgents: typeof o.simAgents === "string" ? envInt(program, "CORRAL_SIM_AGENTS", o.simAgents) : o.simAgents,
    store: o.store,
    dataDir: o.dataDir,
    ...mesos,
    agentDir: program.opts<{ agentDir?: string }>().agentDir || join(o.dataDir, "agent"),
    ...agentResources(program),
    ...agentPorts(program),
    ...preReserved(program),
    waitForLockMs: wait * 1000,
    frameworkName: o.frameworkName,
    role: o.role ?? `${o.frameworkName}-role`,
    principal: o.principal ?? `${o.frameworkName}-principal`,
    logLevel: o.logLevel,
    logFormat: logFormat as LogFormat,
    specWorkers: typeof o.specWorkers === "string" ? envInt(program, "CORRAL_SPEC_WORKERS", o.specWorkers, nonNegativeInt) : o.specWorkers,
    maxParallelDeploys:
      typeof o.maxParallelDeploys === "string" ? envInt(program, "CORRAL_MAX_PARALLEL_DEPLOYS", o.maxParallelDeploys, nonNegativeInt) : o.maxParallelDeploys,
    replaceUnreachableAfterMs: unreachableS * 1000,
    serviceRemovalTimeoutMs: Math.max(0, removalS) * 1000,
    uninstall,
    stayAfterUninstall: flags.stayAfterUninstall === true || env["CORRAL_STAY_AFTER_UNINSTALL"] === "true",
    eventRetention: typeof flags.eventRetention === "string" ? envInt(program, "CORRAL_EVENT_RETENTION", flags.eventRetention) : flags.eventRetention,
    eventMaxAgeMs: maxAgeH * 3600 * 1000,
    taskPath: env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin",
    ...security,
  };
}

/** --master and its companions: a master only with --cluster mesos, and one is then needed. */
function mesosOptions(program: Command): Pick<ResolvedOptions, "master" | "mesosSecretFile" | "mesosCaFile" | "frameworkUser"> {
  const o = program.opts<{ cluster: string; master?: string; mesosSecretFile?: string; mesosCaFile?: string; frameworkUser?: string }>();
  if (o.cluster === "mesos" && !o.master) program.error(`${ERROR_PREFIX}--cluster mesos needs --master http://host:5050 or zk://host:2181/mesos (CORRAL_MASTER)`);
  if (o.cluster !== "mesos" && o.master) program.error(`${ERROR_PREFIX}--master is for --cluster mesos; --cluster ${o.cluster} does not use it`);
  if (o.master && !/^(https?:\/\/[^/]+|zk:\/\/[^/]+\/.+)/.test(o.master)) {
    program.error(`${ERROR_PREFIX}--master / CORRAL_MASTER must be http(s)://host:port or zk://host:port[,host:port]/path`);
  }
  return {
    ...(o.master ? { master: o.master } : {}),
    ...(o.mesosSecretFile ? { mesosSecretFile: o.mesosSecretFile } : {}),
    ...(o.mesosCaFile ? { mesosCaFile: o.mesosCaFile } : {}),
    frameworkUser: o.frameworkUser || userInfo().username,
  };
}

/** --agent-resources, checked here so a typo stops the scheduler before the agent starts. */
function agentResources(program: Command): Pick<ResolvedOptions, "agentResources"> {
  const spec = program.opts<{ agentResources?: string }>().agentResources;
  if (!spec) return {};
  try {
    parseAgentResources(spec);
  } catch (err) {
    return program.error(`${ERROR_PREFIX}--agent-resources / CORRAL_AGENT_RESOURCES ${(err as Error).message}`);
  }
  return { agentResources: spec };
}

/** A repeatable option's values so far: commander starts from the default (an env string) or nothing. */
function listOf(prev: string[] | string | undefined): string[] {
  if (Array.isArray(prev)) return prev;
  // The env default is replaced, not extended, by flags: a flag starts the list afresh.
  return [];
}

/** --agent-ports, checked here so a typo stops the scheduler before the agent starts. */
function agentPorts(program: Command): Pick<ResolvedOptions, "agentPorts"> {
  const spec = program.opts<{ agentPorts?: string }>().agentPorts;
  if (!spec) return {};
  try {
    parsePortRanges(spec);
  } catch (err) {
    return program.error(`${ERROR_PREFIX}--agent-ports / CORRAL_AGENT_PORTS ${(err as Error).message}`);
  }
  return { agentPorts: spec };
}

/** --pre-reserved-role (flags, else CORRAL_PRE_RESERVED_ROLES) and --agent-pre-reserved, whose roles count too on the local cluster. */
function preReserved(program: Command): Pick<ResolvedOptions, "agentPreReserved" | "preReservedRoles"> {
  const o = program.opts<{ preReservedRole?: string[] | string; agentPreReserved?: string; cluster: string }>();
  const given = typeof o.preReservedRole === "string" ? o.preReservedRole.split(",").map((r) => r.trim()).filter((r) => r !== "") : (o.preReservedRole ?? []);
  for (const role of given) {
    const problem = roleProblem(role);
    if (problem !== undefined) program.error(`${ERROR_PREFIX}--pre-reserved-role / CORRAL_PRE_RESERVED_ROLES: ${problem}`);
  }
  const spec = o.agentPreReserved;
  if (!spec) return { preReservedRoles: [...new Set(given)] };
  let pools;
  try {
    pools = parsePreReserved(spec);
  } catch (err) {
    return program.error(`${ERROR_PREFIX}--agent-pre-reserved / CORRAL_AGENT_PRE_RESERVED ${(err as Error).message}`);
  }
  const local = o.cluster === "local" ? pools.map((p) => p.role) : [];
  return { agentPreReserved: spec, preReservedRoles: [...new Set([...given, ...local])] };
}

/** --listen / CORRAL_LISTEN as host:port, an empty host made 127.0.0.1. */
function checkedListen(program: Command): string {
  try {
    return normalizeListen(program.opts<{ listen: string }>().listen);
  } catch (err) {
    return program.error(`${ERROR_PREFIX}--listen / CORRAL_LISTEN ${(err as Error).message}`);
  }
}

/** The security flags that were given (unset and empty ones left out). */
function securityFiles(given: ApiSecurityFiles): ApiSecurityFiles {
  const keys = ["authTokenFile", "tlsCert", "tlsKey", "tlsClientCa"] as const;
  return Object.fromEntries(keys.flatMap((k) => (given[k] ? [[k, given[k]]] : [])));
}
