/**
 * CONTRACT STUB (issue 14) — replaced by the agent helper. The agent as a detached daemon, one
 * per state directory: start it when none runs, tell its status, stop it. No engine imports:
 * the CLI uses this too.
 */

/** The options a running agent was started with; a scheduler asking for others is refused. */
export interface AgentDaemonConfig {
  readonly stateDir: string;
  readonly agents: number;
  /** @default 15 */
  readonly heartbeatIntervalS?: number;
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

export function agentStatus(_stateDir: string): Promise<AgentStatus> {
  throw new Error("not built yet");
}

/**
 * Starts the daemon unless one runs on `config.stateDir`; waits until it serves. Throws
 * SchedulerError failed_precondition when the running one has other options, naming
 * `corral agent stop`.
 */
export function ensureAgent(_config: AgentDaemonConfig): Promise<{ readonly socketPath: string; readonly pid: number; readonly started: boolean }> {
  throw new Error("not built yet");
}

/** Stops the daemon (SIGTERM, then waits); tasks keep running unless `killTasks`. False when none ran. */
export function stopAgent(_stateDir: string, _options?: { readonly killTasks?: boolean }): Promise<boolean> {
  throw new Error("not built yet");
}
