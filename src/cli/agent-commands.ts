/**
 * `corral agent status|stop`: the local agent daemon of a state directory (issue 14). It runs on
 * this machine, so these commands read its state directory instead of calling the scheduler.
 */
import { resolve } from "node:path";
import { agentStatus, stopAgent } from "../adapters/cluster/agent/daemon.js";
import { CliError, EXIT } from "./errors.js";

export interface AgentCommandContext {
  readonly json: boolean;
  out(text: string): void;
}

/** `<data-dir>/agent` unless --agent-dir (or CORRAL_AGENT_DIR) says otherwise, as the scheduler resolves it. */
export function agentDirOf(o: { agentDir?: string; dataDir?: string }, env: NodeJS.ProcessEnv): string {
  return resolve(o.agentDir ?? env["CORRAL_AGENT_DIR"] ?? resolve(o.dataDir ?? env["CORRAL_DATA_DIR"] ?? "./.corral", "agent"));
}

export async function status(ctx: AgentCommandContext, stateDir: string): Promise<void> {
  const s = await agentStatus(stateDir);
  if (ctx.json) ctx.out(JSON.stringify(s));
  // Exit 3 when none runs, as `systemctl status` answers for an inactive unit.
  if (!s.running) throw new CliError(`no local agent runs on ${s.stateDir}`, EXIT.NOT_FOUND);
  if (!ctx.json) {
    const agents = s.config ? `, ${s.config.agents} agent${s.config.agents === 1 ? "" : "s"}` : "";
    const tasks = s.tasks === undefined ? "" : `, ${s.tasks} task${s.tasks === 1 ? "" : "s"} running`;
    ctx.out(`local agent running: pid ${s.pid ?? "?"}${agents}${tasks}\n  state  ${s.stateDir}\n  socket ${s.socketPath}`);
  }
}

export async function stop(ctx: AgentCommandContext, stateDir: string, killTasks: boolean): Promise<void> {
  const stopped = await stopAgent(stateDir, { killTasks });
  if (!stopped) {
    ctx.out(`no local agent runs on ${stateDir}`);
    return;
  }
  ctx.out(killTasks ? `stopped the local agent on ${stateDir} and its tasks` : `stopped the local agent on ${stateDir}; its tasks keep running (the next agent adopts them)`);
}
