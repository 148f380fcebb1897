import { describe, expect, it } from "vitest";
import { FakeClock, SeededRandom } from "./fake-clock.js";

describe("FakeClock", () => {
  it("runs due timers in time order, FIFO on ties, and only within the window", () => {
    const clock = new FakeClock(1000);
    const ran: string[] = [];
    clock.setTimer(30, () => ran.push("c"));
    clock.setTimer(10, () => ran.push("a"));
    clock.setTimer(10, () => ran.push("b"));
    clock.setTimer(31, () => ran.push("late"));
    clock.advance(30);
    expect(ran).toEqual(["a", "b", "c"]);
    expect(clock.now()).toBe(1030);
    expect(clock.pending()).toBe(1);
  });

  it("runs timers scheduled during advance when they fall due within the window", () => {
    const clock = new FakeClock(0);
    const at: number[] = [];
    clock.setTimer(5, () => {
      at.push(clock.now());
      clock.setTimer(5, () => at.push(clock.now()));
      clock.setTimer(0, () => at.push(clock.now()));
      clock.setTimer(50, () => at.push(clock.now()));
    });
    clock.advance(10);
    expect(at).toEqual([5, 5, 10]);
    expect(clock.pending()).toBe(1);
    expect(clock.nextDueMs()).toBe(55);
  });

  it("never runs a timer inside setTimer, and cancelled timers never run", () => {
    const clock = new FakeClock(0);
    let ran = 0;
    const cancel = clock.setTimer(0, () => ran++);
    clock.setTimer(0, () => ran++);
    expect(ran).toBe(0);
    cancel();
    expect(clock.pending()).toBe(1);
    clock.advance(0);
    expect(ran).toBe(1);
    expect(clock.pending()).toBe(0);
  });

  it("advanceAsync lets promise continuations schedule timers inside the window", async () => {
    const clock = new FakeClock(0);
    const at: number[] = [];
    clock.setTimer(1, () => {
      void Promise.resolve().then(() => clock.setTimer(1, () => at.push(clock.now())));
    });
    await clock.advanceAsync(5);
    expect(at).toEqual([2]);
  });

  it("rejects negative advances", () => {
    expect(() => new FakeClock().advance(-1)).toThrow(RangeError);
  });
});

describe("SeededRandom", () => {
  it("yields the same v4 UUIDs for the same seed and different ones otherwise", () => {
    const a = new SeededRandom(42);
    const b = new SeededRandom(42);
    const ids = [a.uuid(), a.uuid(), a.uuid()];
    expect([b.uuid(), b.uuid(), b.uuid()]).toEqual(ids);
    expect(new Set(ids).size).toBe(3);
    expect(new SeededRandom("other").uuid()).not.toBe(ids[0]);
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
  });
});
