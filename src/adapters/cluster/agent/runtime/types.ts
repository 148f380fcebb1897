/**
 * CONTRACT (issue 14): what the local agent needs from the part that runs its tasks. The agent
 * hosts one simulated master per framework (its bookkeeping) and plugs this in as the master's
 * TaskRuntime; the runtime reports every transition through `report`.
 */
import type { TaskState } from "../../../../domain/cluster.js";
import type { Clock, Logger, TaskFiles } from "../../../../engine/ports.js";
import type { Extra, SimTask, TaskRuntime } from "../../sim-tasks.js";

export interface AgentRuntimeOptions {
  /** The framework's directory in the agent's state: sandboxes/ and volumes/ live below it. */
  readonly root: string;
  readonly clock: Clock;
  readonly log: Logger;
  readonly report: (task: SimTask, state: TaskState, extra?: Extra) => void;
  /** PATH given to tasks. */
  readonly taskPath: string;
  /** The secret store (`SecretFiles`): secret env variables and files are read from here at launch. */
  readonly secretsDir?: string;
  /** Whether a task may run as the user its spec names (the agent runs as root). */
  readonly canSwitchUser: boolean;
  /**
   * The framework's user (FrameworkInfo.user), asked at each launch: a task whose command names
   * no user runs as it, as on Mesos, when the agent may switch users. @default none
   */
  readonly frameworkUser?: () => string | undefined;
  /** How often adopted tasks (not our children) are looked at. @default 200 */
  readonly pollMs?: number;
  /** stdout/stderr are rotated (copy, truncate) past this size; one old file is kept. @default 10 MiB */
  readonly logMaxBytes?: number;
  /** Sandboxes of ended tasks are removed after this long… @default 7 days */
  readonly sandboxMaxAgeMs?: number;
  /** …or, oldest first, while ended sandboxes take more than this. @default 1 GiB */
  readonly sandboxMaxBytes?: number;
}

export interface AgentRuntime extends TaskRuntime {
  /** Re-attaches to a task of a restored master: running, ended while the agent was away, or never started. */
  adopt(task: SimTask): void;
  /** Starts what `start` and `adopt` queued (after the master's state was saved). */
  startQueued(): void;
  /** Stops watching; the processes go on, for the next agent to adopt. */
  close(): void;
  /** Live processes (tests, diagnostics, GET_TASKS' executor_pid). */
  processes(): { readonly taskId: string; readonly taskPid?: number }[];
  /** A service's reservations were released: remove the ended sandboxes of tasks that ran on them. */
  collectSandboxes(namespaces: ReadonlySet<string>): void;
  /** Sandboxes and output files, for `/files/browse` and `/files/read`. */
  readonly files: TaskFiles;
}
