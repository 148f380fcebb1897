import { describe, expect, it } from "vitest";
import { afterFailure, afterRunning, relaunchDelayMs } from "./backoff.js";

describe("crash-loop back-off", () => {
  it("relaunches at once the first time, then waits 1, 2, 4 … s up to 60 s", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 20].map(relaunchDelayMs)).toEqual([0, 1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000]);
  });

  it("counts failures in a row, and starts again after a minute of running", () => {
    let c = afterFailure(undefined, 0);
    expect(c.failures).toBe(1);
    c = afterFailure(afterRunning(c, 1000), 2000); // ran one second
    expect(c.failures).toBe(2);
    c = afterRunning(c, 10_000);
    expect(afterRunning(c, 20_000).runningSinceMs).toBe(10_000); // the first RUNNING counts
    expect(afterFailure(c, 70_000).failures).toBe(1); // ran 60 s: a first failure again
    expect(afterFailure(c, 69_999).failures).toBe(3);
  });
});
