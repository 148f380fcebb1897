/**
 * `<stateDir>/agent-state.json`: what makes the agent the same master after a restart: its id
 * (agents `<id>-S<n>`, frameworks `<id>-<4-digit counter>`), the counter, the framework hosts
 * and the framework IDs it removed (a SUBSCRIBE with one of those gets "Framework has been removed").
 */
import { join } from "node:path";
import type { WireFrameworkInfo } from "./call-codec.js";
import { readJson, writeJsonAtomic } from "./state-file.js";

export const AGENT_STATE_VERSION = 1;

/** One framework host: its directory under `frameworks/` and the framework it serves now. */
export interface SavedHost {
  /** Directory name under `<stateDir>/frameworks/` (the first framework ID it served). */
  readonly dir: string;
  readonly frameworkId: string;
  readonly info: WireFrameworkInfo;
  /** Torn down or failed over past its timeout: kept only for the role's reservations. */
  readonly removed: boolean;
}

export interface AgentState {
  readonly version: typeof AGENT_STATE_VERSION;
  readonly masterId: string;
  readonly nextFramework: number;
  readonly hosts: readonly SavedHost[];
  readonly removedFrameworks: readonly string[];
}

export function agentStatePath(stateDir: string): string {
  return join(stateDir, "agent-state.json");
}

export function loadAgentState(stateDir: string): AgentState | undefined {
  const path = agentStatePath(stateDir);
  const state = readJson<AgentState>(path);
  if (state && state.version !== AGENT_STATE_VERSION) {
    throw new Error(`${path}: state version ${String(state.version)}, this agent reads ${AGENT_STATE_VERSION}`);
  }
  return state;
}

export function saveAgentState(stateDir: string, state: AgentState): void {
  writeJsonAtomic(agentStatePath(stateDir), state);
}
