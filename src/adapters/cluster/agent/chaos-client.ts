/** Sets an agent's chaos knobs (`POST /__chaos`, agent started with chaos on); returns the knobs in force. */
import { agentRequest, type AgentTarget } from "./agent-http.js";

export interface ChaosSettings {
  readonly split_records?: boolean;
  readonly stall?: boolean;
  readonly duplicate_updates?: boolean;
  /** "host:port" to answer every scheduler call 307 there; null to stop. */
  readonly redirect?: string | null;
  readonly unavailable?: boolean;
  /** One-shot: close every subscription stream now. */
  readonly drop_streams?: true;
  /** One-shot: this agent is removed (offers rescinded, its tasks gone). */
  readonly lose_agent?: string;
}

export async function setChaos(target: AgentTarget, knobs: ChaosSettings): Promise<Record<string, unknown>> {
  const answer = await agentRequest(target, "POST", "/__chaos", knobs);
  if (answer.status !== 200) throw new Error(`chaos: the agent answered ${answer.status}: ${answer.body}`);
  return JSON.parse(answer.body) as Record<string, unknown>;
}
