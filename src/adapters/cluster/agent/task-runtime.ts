/**
 * The one place the agent picks what runs its tasks. Today: the local cluster's ProcessRuntime
 * (a supervisor per task) with its LocalTaskFiles; the agent runtime (runtime/, AgentRuntime)
 * replaces both with one constructor call here.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { ProcessRuntime } from "../local/process-runtime.js";
import { LocalTaskFiles } from "../local/task-files.js";
import type { AgentRuntime, AgentRuntimeOptions } from "./runtime/types.js";

/**
 * A runtime for one framework host. `live` names the host's live tasks and their pids (the
 * interim TaskFiles needs them; AgentRuntime keeps its own).
 */
export function createTaskRuntime(o: AgentRuntimeOptions, live: () => ReadonlyMap<string, number | undefined>): AgentRuntime {
  // Swap: `return new AgentRuntime(o);` once runtime/ lands.
  const runtime = new ProcessRuntime({
    root: o.root,
    clock: o.clock,
    log: o.log,
    report: o.report,
    taskPath: o.taskPath,
    canSwitchUser: o.canSwitchUser,
    ...(o.pollMs !== undefined ? { pollMs: o.pollMs } : {}),
  });
  const files = new LocalTaskFiles({ root: o.root, live });
  return Object.assign(runtime, { files });
}

/** A destroyed persistent volume's data (`<root>/volumes/<agent>/<persistence id>`, the runtime's layout). */
export function destroyVolume(root: string, agentId: string, persistenceId: string): void {
  rmSync(join(root, "volumes", agentId, persistenceId), { recursive: true, force: true });
}
