/**
 * Kills tasks reliably (reference TaskKiller): a kill is re-sent every `retryMs` until a
 * terminal status for the task arrives, because a kill can be lost like any message.
 */
import type { Cancel, Clock, ClusterDriver, Logger } from "./ports.js";

export class TaskKiller {
  private readonly pending = new Map<string, Cancel>();

  constructor(
    private readonly driver: ClusterDriver,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly retryMs = 5000,
  ) {}

  /** `reason` is logged with the first attempt. */
  kill(taskId: string, agentId?: string, reason?: string): void {
    if (taskId === "" || this.pending.has(taskId)) return;
    const attempt = (): void => {
      this.driver.kill(taskId, agentId).catch((err: unknown) => this.log.warn({ err, taskId }, "kill failed"));
      this.pending.set(taskId, this.clock.setTimer(this.retryMs, attempt));
    };
    this.log.info(reason === undefined ? { taskId } : { taskId, reason }, "killing task");
    attempt();
  }

  /** A terminal status arrived: stop retrying. */
  dead(taskId: string): void {
    this.pending.get(taskId)?.();
    this.pending.delete(taskId);
  }

  stop(): void {
    for (const cancel of this.pending.values()) cancel();
    this.pending.clear();
  }
}
