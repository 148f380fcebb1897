/**
 * Stopping a scheduler's parts in the reverse of their start, within a deadline.
 */

/** How to stop one part; `name` is what a stop that ran out of time reports as unfinished. */
export interface StopStep {
  readonly name: string;
  run(): Promise<unknown>;
}

/** A stop that did not finish within its deadline; `unfinished` names the steps left running or not begun. */
export class StopDeadlineError extends Error {
  constructor(
    readonly unfinished: readonly string[],
    readonly deadlineMs: number,
  ) {
    super(`the stop did not finish within ${deadlineMs} ms: ${unfinished.join(", ")} did not stop`);
    this.name = "StopDeadlineError";
  }
}

/**
 * Runs the stop steps last pushed first, each once (taken off `steps`); the first failure is
 * thrown after all ran. Rejects with StopDeadlineError once `deadlineMs` has passed; the step
 * then running is abandoned, not cancelled.
 */
export async function stopSteps(steps: StopStep[], deadlineMs: number): Promise<void> {
  const order = steps.splice(0).reverse();
  let current = 0;
  const runAll = async (): Promise<void> => {
    let failure: unknown;
    for (; current < order.length; current++) {
      try {
        await order[current]!.run();
      } catch (err) {
        failure ??= err;
      }
    }
    if (failure !== undefined) throw failure;
  };
  let timer: NodeJS.Timeout | undefined;
  const timeUp = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StopDeadlineError(order.slice(current).map((s) => s.name), deadlineMs)), deadlineMs);
  });
  try {
    await Promise.race([runAll(), timeUp]);
  } finally {
    clearTimeout(timer);
  }
}
