/**
 * The one place the agent picks what runs its tasks: the agent runtime (runtime/), one process
 * group per task under a small shell wrapper, with its sandbox files served through `files`.
 */
import { LocalAgentRuntime } from "./runtime/agent-runtime.js";
import { destroyVolume as destroyVolumeDir } from "./runtime/sandbox.js";
import type { AgentRuntime, AgentRuntimeOptions } from "./runtime/types.js";

/** A runtime for one framework host, rooted at its directory. */
export function createTaskRuntime(o: AgentRuntimeOptions): AgentRuntime {
  return new LocalAgentRuntime(o);
}

/** A destroyed persistent volume's data goes (`<root>/volumes/<agent>/<persistence id>`). */
export function destroyVolume(root: string, agentId: string, persistenceId: string): void {
  destroyVolumeDir(root, agentId, persistenceId);
}
