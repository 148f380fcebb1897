/**
 * The one place the agent picks what runs its tasks: the agent runtime (runtime/), a tiny shell
 * wrapper per task and no Node process per task.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { LocalAgentRuntime } from "./runtime/agent-runtime.js";
import type { AgentRuntime, AgentRuntimeOptions } from "./runtime/types.js";

/** A runtime for one framework host. */
export function createTaskRuntime(o: AgentRuntimeOptions, _live?: () => ReadonlyMap<string, number | undefined>): AgentRuntime {
  return new LocalAgentRuntime(o);
}

/** A destroyed persistent volume's data (`<root>/volumes/<agent>/<persistence id>`, the runtime's layout). */
export function destroyVolume(root: string, agentId: string, persistenceId: string): void {
  rmSync(join(root, "volumes", agentId, persistenceId), { recursive: true, force: true });
}
