/** The stop's steps and its deadline (the scheduler process exits 1 when a stop runs out of time). */
import { describe, expect, it } from "vitest";
import { StopDeadlineError, stopSteps } from "./app.js";
import type { StopStep } from "./app.js";

describe("stopSteps", () => {
  it("runs the steps last pushed first, each once, and throws the first failure after all ran", async () => {
    const ran: string[] = [];
    const step = (name: string, fail = false): StopStep => ({
      name,
      run: async () => {
        ran.push(name);
        if (fail) throw new Error(name);
      },
    });
    const steps = [step("lock"), step("store", true), step("scheduler", true), step("api server")];
    await expect(stopSteps(steps, 60_000)).rejects.toThrow("scheduler");
    expect(ran).toEqual(["api server", "scheduler", "store", "lock"]);
    await stopSteps(steps, 60_000);
    expect(ran).toHaveLength(4);
  });

  it("gives up at the deadline, naming the step that did not finish and those not begun", async () => {
    const ran: string[] = [];
    const steps: StopStep[] = [
      { name: "lock", run: async () => void ran.push("lock") },
      { name: "store", run: async () => void ran.push("store") },
      { name: "scheduler", run: () => new Promise(() => undefined) }, // a drain that never ends
      { name: "api server", run: async () => void ran.push("api server") },
    ];
    const err = await stopSteps(steps, 20).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(StopDeadlineError);
    expect(err).toMatchObject({ unfinished: ["scheduler", "store", "lock"], deadlineMs: 20 });
    expect(ran).toEqual(["api server"]);
  });
});
