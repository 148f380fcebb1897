/**
 * followPlan (plan-follow.ts) on scripted sources, no scheduler and no process: events make it
 * get the plan again (bursts coalesce), it ends on COMPLETE or ERROR as GetPlan says, a broken
 * stream is reopened after the last sequence seen, a scheduler without WatchPlans is polled.
 */
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { PlanEventSchema, PlanSchema, Status } from "../../src/client/index.js";
import type { Plan, PlanEvent } from "../../src/client/index.js";
import { CliError, RpcError } from "../../src/cli/errors.js";
import { followPlan } from "../../src/cli/plan-follow.js";
import type { PlanSource } from "../../src/cli/plan-follow.js";
import type { PlanDisplay } from "../../src/cli/plan-watch.js";

const plan = (status: Status): Plan => create(PlanSchema, { name: "deploy", status });
const event = (sequence: number, extra: Partial<{ name: string; plan: string; generation: bigint }> = {}): PlanEvent =>
  create(PlanEventSchema, { sequence: BigInt(sequence), name: "hello", plan: "deploy", generation: 1n, status: Status.STARTING, ...extra });
const rpcError = (code: grpc.status): RpcError =>
  new RpcError("WatchPlans", "127.0.0.1:1", Object.assign(new Error(grpc.status[code]), { code, details: grpc.status[code], metadata: new grpc.Metadata() }), undefined);

const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
};

/** A stream fed by the test: push events, then end it or fail it; aborting its signal ends it with CANCELLED. */
class Feed {
  readonly #queue: (PlanEvent | { readonly error: unknown } | "end")[] = [];
  #wake = (): void => undefined;
  push(...items: (PlanEvent | { readonly error: unknown } | "end")[]): void {
    this.#queue.push(...items);
    this.#wake();
  }
  async *open(signal: AbortSignal): AsyncGenerator<PlanEvent> {
    const onAbort = (): void => this.push({ error: rpcError(grpc.status.CANCELLED) });
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      for (;;) {
        if (this.#queue.length === 0) await new Promise<void>((resolve) => (this.#wake = resolve));
        const item = this.#queue.shift()!;
        if (item === "end") return;
        if ("error" in item) throw item.error;
        yield item;
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }
}

interface Script {
  /** GetPlan answers, in order (the last repeats); an Error is thrown. */
  readonly plans: (Plan | Error)[];
  /** One feed per subscription, in order. */
  readonly feeds: Feed[];
  readonly concerns?: (e: PlanEvent) => boolean;
}

function scripted(script: Script) {
  const subscriptions: bigint[] = [];
  let fetches = 0;
  const source: PlanSource = {
    // A round trip: events already on their way are read meanwhile.
    fetch: async () => {
      const answer = script.plans[Math.min(fetches++, script.plans.length - 1)]!;
      await new Promise((resolve) => setImmediate(resolve));
      if (answer instanceof Error) throw answer;
      return answer;
    },
    events: (after, signal) => {
      subscriptions.push(after);
      const feed = script.feeds[subscriptions.length - 1];
      if (feed === undefined) throw new Error(`no feed for subscription ${subscriptions.length}`);
      return feed.open(signal);
    },
    concerns: script.concerns ?? ((e) => e.name === "hello" && e.plan === "deploy"),
    watchable: (p) => p.name !== "uninstall",
  };
  const shown: Status[] = [];
  let finished = 0;
  const display: PlanDisplay = { update: (p) => shown.push(p.status), finish: () => void finished++ };
  const sleeps: number[] = [];
  let clock = 0;
  const options = {
    intervalMs: 100,
    reconnectForMs: 1_000,
    now: () => clock,
    sleep: (ms: number) => {
      sleeps.push(ms);
      clock += ms;
      return Promise.resolve();
    },
  };
  return { source, display, options, subscriptions, shown, sleeps, fetches: () => fetches, finished: () => finished };
}

describe("followPlan over WatchPlans", () => {
  it("gets the plan again on each event about it and ends once it is COMPLETE", async () => {
    const feed = new Feed();
    const s = scripted({ plans: [plan(Status.PENDING), plan(Status.IN_PROGRESS), plan(Status.COMPLETE)], feeds: [feed] });
    const followed = followPlan(s.source, s.display, s.options);
    feed.push(event(1, { plan: "recovery" }), event(2, { name: "other" }));
    await settle();
    expect(s.fetches()).toBe(1); // events about other plans and services do not count
    feed.push(event(3));
    await settle();
    expect(s.fetches()).toBe(2);
    feed.push(event(4));
    const last = await followed;
    expect(last.status).toBe(Status.COMPLETE);
    expect(s.shown).toEqual([Status.PENDING, Status.IN_PROGRESS, Status.COMPLETE]);
    expect(s.subscriptions).toEqual([0n]);
    expect(s.finished()).toBe(1);
  });

  it("a source that resumes by itself (followPlans): each resume gets the plan again; its UNAVAILABLE (it gave up) ends the watch", async () => {
    const feed = new Feed();
    const s = scripted({ plans: [plan(Status.IN_PROGRESS), plan(Status.IN_PROGRESS)], feeds: [feed] });
    let resume = (): void => undefined;
    const source: PlanSource = {
      ...s.source,
      resumes: true,
      events: (after, signal, resumed) => {
        resume = resumed;
        return s.source.events(after, signal, resumed);
      },
    };
    const followed = followPlan(source, s.display, s.options);
    await settle();
    expect(s.fetches()).toBe(1);
    resume(); // the stream broke and is being issued again (at the new leader): the plan may have moved meanwhile
    await settle();
    expect(s.fetches()).toBe(2);
    feed.push({ error: rpcError(grpc.status.UNAVAILABLE) });
    await expect(followed).rejects.toMatchObject({ error: { code: grpc.status.UNAVAILABLE } });
    expect(s.subscriptions).toEqual([0n]);
    expect(s.sleeps).toEqual([]);
  });

  it("a burst of events costs at most two GetPlans", async () => {
    const feed = new Feed();
    const s = scripted({ plans: [plan(Status.IN_PROGRESS)], feeds: [feed] });
    feed.push(...Array.from({ length: 500 }, (_, i) => event(i + 1)), { error: rpcError(grpc.status.NOT_FOUND) });
    await expect(followPlan(s.source, s.display, s.options)).rejects.toMatchObject({ error: { code: grpc.status.NOT_FOUND } });
    expect(s.fetches()).toBeLessThanOrEqual(3); // the first, then ≤ 2 for the burst
  });

  it("a plan already COMPLETE or in ERROR ends the watch without subscribing", async () => {
    const s = scripted({ plans: [plan(Status.ERROR)], feeds: [] });
    expect((await followPlan(s.source, s.display, s.options)).status).toBe(Status.ERROR);
    expect(s.subscriptions).toEqual([]);
  });

  it("reopens a broken stream after the last sequence seen, getting the plan again once the scheduler answers", async () => {
    const [first, second] = [new Feed(), new Feed()];
    const down = rpcError(grpc.status.UNAVAILABLE);
    const s = scripted({ plans: [plan(Status.PENDING), plan(Status.IN_PROGRESS), down, down, plan(Status.IN_PROGRESS), plan(Status.COMPLETE)], feeds: [first, second] });
    first.push(event(7), event(9, { name: "other" }), { error: down });
    second.push(event(10));
    const last = await followPlan(s.source, s.display, s.options);
    expect(last.status).toBe(Status.COMPLETE);
    expect(s.subscriptions).toEqual([0n, 9n]);
    expect(s.sleeps).toEqual([100, 200, 400]); // backing off while GetPlan is UNAVAILABLE
  });

  it("a GetPlan that finds the scheduler gone after an event reconnects too", async () => {
    const [first, second] = [new Feed(), new Feed()];
    const down = rpcError(grpc.status.UNAVAILABLE);
    first.push(event(5));
    second.push(event(6));
    const s = scripted({ plans: [plan(Status.IN_PROGRESS), down, plan(Status.IN_PROGRESS), plan(Status.COMPLETE)], feeds: [first, second] });
    expect((await followPlan(s.source, s.display, s.options)).status).toBe(Status.COMPLETE);
    expect(s.subscriptions).toEqual([0n, 5n]);
  });

  it("RESOURCE_EXHAUSTED (fell behind) resumes after the last sequence; OUT_OF_RANGE (a scheduler that lost it) starts again from 0", async () => {
    const feeds = [new Feed(), new Feed(), new Feed()];
    feeds[0]!.push(event(41), { error: rpcError(grpc.status.RESOURCE_EXHAUSTED) });
    feeds[1]!.push({ error: rpcError(grpc.status.OUT_OF_RANGE) });
    feeds[2]!.push(event(3));
    const s = scripted({ plans: [plan(Status.IN_PROGRESS), plan(Status.IN_PROGRESS), plan(Status.IN_PROGRESS), plan(Status.IN_PROGRESS), plan(Status.COMPLETE)], feeds });
    expect((await followPlan(s.source, s.display, s.options)).status).toBe(Status.COMPLETE);
    expect(s.subscriptions).toEqual([0n, 41n, 0n]);
  });

  it("other errors of the stream end the watch with them", async () => {
    const feed = new Feed();
    const denied = rpcError(grpc.status.PERMISSION_DENIED);
    feed.push({ error: denied });
    const s = scripted({ plans: [plan(Status.IN_PROGRESS)], feeds: [feed] });
    await expect(followPlan(s.source, s.display, s.options)).rejects.toBe(denied);
    expect(s.subscriptions).toEqual([0n]);
  });

  it("the uninstall plan, which WatchPlans does not tell about, is polled", async () => {
    const removal = (status: Status): Plan => create(PlanSchema, { name: "uninstall", status });
    const s = scripted({ plans: [removal(Status.IN_PROGRESS), removal(Status.IN_PROGRESS), removal(Status.COMPLETE)], feeds: [] });
    expect((await followPlan(s.source, s.display, s.options)).status).toBe(Status.COMPLETE);
    expect(s.subscriptions).toEqual([]);
    expect(s.sleeps).toEqual([100]);
  });

  it("a stream that ends is reopened too; one that keeps failing gives up after reconnectForMs with its error", async () => {
    const down = rpcError(grpc.status.UNAVAILABLE);
    const feeds = Array.from({ length: 20 }, () => new Feed());
    feeds[0]!.push("end");
    for (const f of feeds.slice(1)) f.push({ error: down });
    const s = scripted({ plans: [plan(Status.IN_PROGRESS)], feeds });
    await expect(followPlan(s.source, s.display, s.options)).rejects.toBe(down);
    expect(s.subscriptions.length).toBeGreaterThan(2);
    expect(s.sleeps.reduce((a, b) => a + b, 0)).toBeGreaterThan(1_000);
    expect(s.sleeps.every((ms) => ms <= 5_000)).toBe(true);
    expect(s.finished()).toBe(1);
  });

  it("Ctrl-C (CANCELLED with the signal aborted) ends the watch instead of reconnecting", async () => {
    const feed = new Feed();
    const interrupt = new AbortController();
    const s = scripted({ plans: [plan(Status.IN_PROGRESS)], feeds: [feed] });
    const cancelled = rpcError(grpc.status.CANCELLED);
    const followed = followPlan(s.source, s.display, { ...s.options, signal: interrupt.signal });
    interrupt.abort();
    feed.push({ error: cancelled });
    await expect(followed).rejects.toBe(cancelled);
    expect(s.subscriptions).toEqual([0n]);
  });

  it("polls GetPlan every intervalMs when the scheduler has no WatchPlans (UNIMPLEMENTED)", async () => {
    const feed = new Feed();
    feed.push({ error: rpcError(grpc.status.UNIMPLEMENTED) });
    const s = scripted({ plans: [plan(Status.PENDING), plan(Status.IN_PROGRESS), plan(Status.IN_PROGRESS), plan(Status.ERROR)], feeds: [feed] });
    expect((await followPlan(s.source, s.display, s.options)).status).toBe(Status.ERROR);
    expect(s.sleeps).toEqual([100, 100]);
    expect(s.shown).toEqual([Status.PENDING, Status.IN_PROGRESS, Status.IN_PROGRESS, Status.ERROR]);
  });

  it("ends with what concerns() throws (a later generation), cancelling the stream", async () => {
    const feed = new Feed();
    const superseded = new CliError("put again", 6);
    const s = scripted({
      plans: [plan(Status.IN_PROGRESS)],
      feeds: [feed],
      concerns: (e) => {
        if (e.generation > 1n) throw superseded;
        return true;
      },
    });
    feed.push(event(1, { generation: 2n }));
    await expect(followPlan(s.source, s.display, s.options)).rejects.toBe(superseded);
    expect(s.finished()).toBe(1);
  });
});
