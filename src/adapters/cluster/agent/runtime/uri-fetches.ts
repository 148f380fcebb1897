/**
 * Tasks with URIs wait here while their URIs are fetched into their sandboxes, a few at a time;
 * then they go through the runtime's normal (synchronous) start. Tasks without URIs never come
 * here. A kill during the fetch aborts it and the task never starts. Nothing of a fetch is
 * recorded: an agent that stops meanwhile leaves a sandbox without task.json, and the next one
 * (adopt: never started) fetches again and starts the task.
 */
import type { SimTask } from "../../sim-tasks.js";
import { FetchError, fetchUris } from "./fetch-uris.js";
import { taskUser } from "./launch.js";
import { prepareSandbox } from "./sandbox.js";

export interface UriFetchesOptions {
  readonly root: string;
  readonly canSwitchUser: boolean;
  /** The framework's user, now: a command that names none runs (and fetches) as it. */
  readonly frameworkUser: () => string | undefined;
  readonly concurrency: number;
  readonly timeoutMs: number;
  /** The task's URIs are in its sandbox: start it. */
  readonly fetched: (task: SimTask) => void;
  /** A URI could not be fetched: the task fails without starting. */
  readonly failed: (task: SimTask, message: string) => void;
}

export class UriFetches {
  private readonly waiting = new Map<string, SimTask>();
  private readonly running = new Map<string, AbortController>();

  constructor(private readonly o: UriFetchesOptions) {}

  has(taskId: string): boolean {
    return this.waiting.has(taskId) || this.running.has(taskId);
  }

  add(task: SimTask): void {
    if (this.has(task.info.taskId)) return;
    this.waiting.set(task.info.taskId, task);
    this.pump();
  }

  /** Drops the task's fetch (aborting it when under way); true when it had one. */
  cancel(taskId: string): boolean {
    if (this.waiting.delete(taskId)) return true;
    const abort = this.running.get(taskId);
    if (!abort) return false;
    this.running.delete(taskId);
    abort.abort();
    this.pump();
    return true;
  }

  /** The agent stops: every fetch is dropped, none reports. */
  close(): void {
    this.waiting.clear();
    for (const abort of this.running.values()) abort.abort();
    this.running.clear();
  }

  private pump(): void {
    for (const [id, task] of this.waiting) {
      if (this.running.size >= this.o.concurrency) return;
      this.waiting.delete(id);
      this.start(task);
    }
  }

  private start(task: SimTask): void {
    const id = task.info.taskId;
    const abort = new AbortController();
    this.running.set(id, abort);
    const settle = (then: () => void): void => {
      if (this.running.get(id) !== abort) return; // cancelled or closed meanwhile
      this.running.delete(id);
      this.pump();
      then();
    };
    this.fetch(task, abort.signal).then(
      () => settle(() => this.o.fetched(task)),
      (err: unknown) => settle(() => this.o.failed(task, err instanceof FetchError ? err.message : `sandbox: ${(err as Error).message}`)),
    );
  }

  private async fetch(task: SimTask, signal: AbortSignal): Promise<void> {
    const { info } = task;
    const user = taskUser(info, this.o.frameworkUser(), this.o.canSwitchUser);
    // No such user: the start fails and says so.
    if ("error" in user) return;
    const sandbox = prepareSandbox(this.o.root, info, user.account);
    await fetchUris(info.command.uris ?? [], { sandbox, account: user.account, timeoutMs: this.o.timeoutMs, signal });
  }
}
