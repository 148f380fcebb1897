/**
 * `<stateDir>/agent.json`: which daemon serves this state directory — its pid and start time
 * (field 22 of /proc/<pid>/stat, so a reused pid is not mistaken for it), the options it runs
 * with and its socket. Written once the daemon serves; no engine imports (the CLI reads it).
 */
import { procStart } from "./runtime/proc.js";
import { join } from "node:path";
import { readJson, writeJsonAtomic } from "./state-file.js";

/** The options a daemon runs with, as agent.json keeps them. */
export interface AgentInfoConfig {
  readonly stateDir: string;
  readonly agents: number;
  readonly heartbeatIntervalS: number;
  readonly resources?: string;
  /** `--ports`, as given. */
  readonly ports?: string;
  /** `--pre-reserved`, as given. */
  readonly preReserved?: string;
  readonly secretsDir?: string;
}

export interface AgentInfo {
  readonly pid: number;
  readonly procStart: string;
  readonly config: AgentInfoConfig;
  readonly socketPath: string;
  readonly startedAt: string;
}

export function agentInfoPath(stateDir: string): string {
  return join(stateDir, "agent.json");
}

export function readAgentInfo(stateDir: string): AgentInfo | undefined {
  try {
    return readJson<AgentInfo>(agentInfoPath(stateDir));
  } catch {
    return undefined; // half-written by hand or by a crash: as if none
  }
}

export function writeAgentInfo(stateDir: string, info: AgentInfo): void {
  writeJsonAtomic(agentInfoPath(stateDir), info, 0o644);
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot); undefined when no such live process. */
export const procStartOf = procStart;

/** Whether the daemon agent.json names still runs (same pid, same start time). */
export function isLive(info: AgentInfo): boolean {
  return procStartOf(info.pid) === info.procStart;
}
