/**
 * The agent as a detached daemon, one per state directory: start it when none runs, tell its
 * status, stop it. A daemon counts as running when agent.json names a live process (pid and
 * start time) whose socket answers GET_HEALTH. No engine imports: the CLI uses this too.
 */
import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { SchedulerError } from "../../../domain/errors.js";
import { agentRequest } from "./agent-http.js";
import { isLive, procStartOf, readAgentInfo, type AgentInfo } from "./agent-info.js";
import { agentArgv } from "./main-args.js";

/** The options a running agent was started with; a scheduler asking for others is refused. */
export interface AgentDaemonConfig {
  readonly stateDir: string;
  readonly agents: number;
  /** @default 15 */
  readonly heartbeatIntervalS?: number;
  /** `cpus:N;mem:MB;disk:MB` offered instead of what the agent measures (compared as given). */
  readonly resources?: string;
  /** `--ports a-b,c-d` offered instead of 1024–65535 (compared as given). */
  readonly ports?: string;
  /** `--pre-reserved R:cpus=N,…`: pools statically reserved for roles (compared as given). */
  readonly preReserved?: string;
  /** The secret store. @default `<stateDir>/secrets` (compared) */
  readonly secretsDir?: string;
  /** Serve `POST /__chaos` (chaos runs, tests); not compared with a running agent's. @default false */
  readonly chaos?: boolean;
  /** An extra TCP listener (`--listen host:port`); not compared either. */
  readonly listen?: { readonly host: string; readonly port: number };
  /** The daemon's environment (tasks get their own). @default this process's */
  readonly env?: NodeJS.ProcessEnv;
}

export interface AgentStatus {
  readonly running: boolean;
  readonly stateDir: string;
  readonly socketPath: string;
  readonly pid?: number;
  readonly config?: AgentDaemonConfig;
  /** Live tasks, when it answered. */
  readonly tasks?: number;
}

/**
 * How long a started daemon may take to serve (it adopts every live task first: on a loaded
 * machine that took over 10 s in a kill -9 run), and a stopped one to exit.
 */
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
const POLL_MS = 25;

const MAIN = new URL(import.meta.url.endsWith(".ts") ? "./main.ts" : "./main.js", import.meta.url).pathname;

export async function agentStatus(stateDir: string): Promise<AgentStatus> {
  const dir = resolve(stateDir);
  const socketPath = join(dir, "agent.sock");
  const info = await runningAgent(dir);
  if (!info) return { running: false, stateDir: dir, socketPath };
  const tasks = await liveTasks(info.socketPath).catch(() => undefined);
  return {
    running: true,
    stateDir: dir,
    socketPath: info.socketPath,
    pid: info.pid,
    config: info.config,
    ...(tasks !== undefined ? { tasks: tasks.length } : {}),
  };
}

/**
 * Starts the daemon unless one runs on `config.stateDir`; waits until it serves. Throws
 * SchedulerError failed_precondition when the running one has other options, naming
 * `corral agent stop`.
 */
export async function ensureAgent(config: AgentDaemonConfig): Promise<{ readonly socketPath: string; readonly pid: number; readonly started: boolean }> {
  const dir = resolve(config.stateDir);
  const heartbeatIntervalS = config.heartbeatIntervalS ?? 15;
  const running = await runningAgent(dir);
  if (running) {
    checkSameConfig(dir, running, config, heartbeatIntervalS);
    return { socketPath: running.socketPath, pid: running.pid, started: false };
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const logFd = openSync(join(dir, "agent.log"), "a", 0o600);
  let pid: number | undefined;
  let exited: number | null | undefined;
  try {
    const loader = MAIN.endsWith(".ts") ? ["--import", import.meta.resolve("tsx")] : [];
    const argv = agentArgv({
      stateDir: dir,
      agents: config.agents,
      heartbeatIntervalS,
      chaos: config.chaos ?? false,
      ...(config.listen ? { listen: config.listen } : {}),
      ...(config.resources !== undefined ? { resources: config.resources } : {}),
      ...(config.ports !== undefined ? { ports: config.ports } : {}),
      ...(config.preReserved !== undefined ? { preReserved: config.preReserved } : {}),
      ...(config.secretsDir !== undefined ? { secretsDir: resolve(config.secretsDir) } : {}),
    });
    const child = spawn(process.execPath, [...loader, MAIN, ...argv], {
      detached: true,
      stdio: ["ignore", logFd, logFd],
      ...(config.env ? { env: config.env } : {}),
    });
    child.on("exit", (code) => (exited = code));
    child.unref();
    pid = child.pid;
  } finally {
    closeSync(logFd);
  }
  if (pid === undefined) throw new SchedulerError("internal", `could not start the local agent on ${dir} (see ${join(dir, "agent.log")})`);
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    await sleep(POLL_MS);
    const info = await runningAgent(dir);
    if (info) {
      // Another scheduler may have started one at the same time: ours then gave up the lock race.
      if (info.pid !== pid) checkSameConfig(dir, info, config, heartbeatIntervalS);
      return { socketPath: info.socketPath, pid: info.pid, started: info.pid === pid };
    }
    // Exit 3: another daemon holds the lock (it may still be starting); anything else is a failure.
    if (exited !== undefined && exited !== 3) {
      throw new SchedulerError("internal", `the local agent on ${dir} exited with status ${String(exited)} while starting (see ${join(dir, "agent.log")})`);
    }
  }
  throw new SchedulerError("unavailable", `the local agent on ${dir} did not start within ${START_TIMEOUT_MS / 1000} s (see ${join(dir, "agent.log")})`);
}

/** Stops the daemon (SIGTERM, then waits); tasks keep running unless `killTasks`. False when none ran. */
export async function stopAgent(stateDir: string, options: { readonly killTasks?: boolean } = {}): Promise<boolean> {
  const dir = resolve(stateDir);
  const info = readAgentInfo(dir);
  if (!info || !isLive(info)) return false;
  // The task processes, asked for before the agent goes (it is what knows them).
  const listed: (number | undefined)[] = options.killTasks ? await liveTasks(info.socketPath).catch(() => []) : [];
  const pids = listed.filter((p): p is number => p !== undefined);
  signal(info.pid, "SIGTERM");
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (procStartOf(info.pid) === info.procStart) {
    if (Date.now() > deadline) {
      signal(info.pid, "SIGKILL");
      break;
    }
    await sleep(POLL_MS);
  }
  for (const pid of pids) {
    // Each task is its process group (a leader's pid names it); the lone process too, if not.
    signal(-pid, "SIGKILL");
    signal(pid, "SIGKILL");
  }
  return true;
}

/** agent.json's daemon when it is alive and its socket answers GET_HEALTH. */
async function runningAgent(dir: string): Promise<AgentInfo | undefined> {
  const info = readAgentInfo(dir);
  if (!info || !isLive(info)) return undefined;
  try {
    const answer = await agentRequest({ socketPath: info.socketPath }, "POST", "/api/v1", { type: "GET_HEALTH" }, 2000);
    return answer.status === 200 ? info : undefined;
  } catch {
    return undefined;
  }
}

function checkSameConfig(dir: string, running: AgentInfo, config: AgentDaemonConfig, heartbeatIntervalS: number): void {
  const { agents } = config;
  const problems: string[] = [];
  const same = (flag: string, had: string | undefined, wants: string | undefined): void => {
    if ((had ?? "") === (wants ?? "")) return;
    const said = (r: string | undefined): string => (r === undefined ? `no ${flag}` : `${flag} '${r}'`);
    problems.push(`runs with ${said(had)}; this scheduler asks for ${said(wants)}`);
  };
  same("--agent-resources", running.config.resources, config.resources);
  same("--agent-ports", running.config.ports, config.ports);
  same("--agent-pre-reserved", running.config.preReserved, config.preReserved);
  const secrets = (d: string | undefined): string => resolve(d ?? join(dir, "secrets"));
  if (secrets(running.config.secretsDir) !== secrets(config.secretsDir)) same("--secrets-dir", secrets(running.config.secretsDir), secrets(config.secretsDir));
  if (running.config.agents !== agents) problems.push(`runs with --local-agents ${running.config.agents}; this scheduler asks for ${agents}`);
  if (running.config.heartbeatIntervalS !== heartbeatIntervalS) {
    problems.push(`runs with --heartbeat-interval ${running.config.heartbeatIntervalS}; this scheduler asks for ${heartbeatIntervalS}`);
  }
  if (problems.length > 0) {
    throw new SchedulerError(
      "failed_precondition",
      `the local agent on ${dir} ${problems.join(", and ")} — stop it with \`corral agent stop --agent-dir ${dir}\` (its tasks keep running and the next agent adopts them), or start this scheduler with the agent's options`,
    );
  }
}

/** Pids of the agent's live tasks (GET_TASKS' executor_pid). */
async function liveTasks(socketPath: string): Promise<(number | undefined)[]> {
  const answer = await agentRequest({ socketPath }, "POST", "/api/v1", { type: "GET_TASKS" });
  if (answer.status !== 200) throw new Error(`GET_TASKS answered ${answer.status}`);
  const body = JSON.parse(answer.body) as { get_tasks?: { tasks?: { statuses?: { container_status?: { executor_pid?: number } }[] }[] } };
  return (body.get_tasks?.tasks ?? []).map((t) => t.statuses?.at(-1)?.container_status?.executor_pid);
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // gone already
  }
}
