/**
 * `plan --watch` and `put --watch` over the WatchPlans stream (and `pod … --watch`, whose pod
 * is got again the same way: pod-watch.ts). An event about the followed plan
 * makes the CLI get the plan again (GetPlan; a burst of events costs one or two calls), so what
 * is shown, and when the watch ends, is decided on the scheduler's whole plan as polling did —
 * without polling, and without rebuilding a plan from events (a replayed older event can never
 * show a step going backwards).
 *
 * The stream is opened with `after` 0 (the oldest retained event): whatever happened between
 * the first GetPlan and the subscription is replayed, so no change is missed. A stream that
 * breaks (UNAVAILABLE, or CANCELLED by the server: a scheduler stopping or restarting;
 * RESOURCE_EXHAUSTED: the CLI fell behind) or ends is reopened after the last sequence seen, and
 * the plan is got again, for up to `reconnectForMs`; OUT_OF_RANGE (the scheduler no longer has
 * that sequence: restarted with an empty log, or retention dropped it) starts again from 0.
 * A scheduler without WatchPlans (UNIMPLEMENTED: older than the RPC), and a plan the stream does
 * not tell about (the uninstall plan: WatchUninstall's), are polled every `intervalMs` instead.
 * The CLI's source is the typed client's followPlans (`resumes`): it reopens a broken stream itself,
 * at the new leader after a failover, so this loop only handles a GetPlan that finds no leader
 * (it waits and gets the plan again) and the codes that client does not resume (OUT_OF_RANGE).
 */
import * as grpc from "@grpc/grpc-js";
import type { Plan, PlanEvent } from "../client/index.js";
import { CliError, RpcError } from "./errors.js";
import { defaultSleep, isSettled, poll } from "./plan-watch.js";
import type { Display, WatchPlanOptions } from "./plan-watch.js";

/** Where a followed value (a plan; a pod, whose relaunch shows in plan events) comes from. */
export interface FollowSource<T> {
  /** The value as it is now (GetPlan, ListPods). */
  fetch(): Promise<T>;
  /** Where the watch ends: a plan COMPLETE or in ERROR, a pod running again. */
  settled(value: T): boolean;
  /**
   * Plan events after `after` (WatchPlans); ends, or throws CANCELLED, once `signal` aborts. A
   * source that resumes a broken stream by itself calls `resumed` each time it does: the value is
   * got again then (a scheduler that lost events while away cannot leave the watch stuck).
   */
  events(after: bigint, signal: AbortSignal, resumed: () => void): AsyncIterable<PlanEvent>;
  /** Whether `event` may have changed the value; throws to end the watch (CliError). */
  concerns(event: PlanEvent): boolean;
  /** Whether WatchPlans tells about it at all (otherwise it is polled). */
  watchable(value: T): boolean;
  /**
   * `events` resumes by itself after a break, at whichever scheduler leads (the typed client's
   * followPlans): UNAVAILABLE or CANCELLED from it means it gave up, and ends the watch.
   */
  readonly resumes?: boolean;
}

export type PlanSource = Omit<FollowSource<Plan>, "settled">;

export interface FollowPlanOptions extends WatchPlanOptions {
  /** How long a broken stream is retried before the watch fails with its error. @default 60_000 */
  readonly reconnectForMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

/** A stream that lived this long, or delivered an event, was healthy: its break starts a new retry window. */
const HEALTHY_MS = 2_000;
/** Longest wait between attempts to reach a scheduler again: a failover is over within a wait of it. */
const MAX_BACKOFF_MS = 2_000;

/** Follows the plan until it is COMPLETE or in ERROR and returns that last plan. */
export function followPlan(source: PlanSource, display: Display<Plan>, options: FollowPlanOptions): Promise<Plan> {
  return followUntilSettled({ ...source, settled: isSettled }, display, options);
}

/** Follows a value until it is `settled` and returns it. */
export async function followUntilSettled<T>(source: FollowSource<T>, display: Display<T>, options: FollowPlanOptions): Promise<T> {
  try {
    return await follow(source, display, options);
  } finally {
    display.finish();
  }
}

async function follow<T>(source: FollowSource<T>, display: Display<T>, o: FollowPlanOptions): Promise<T> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? defaultSleep;
  const reconnectForMs = o.reconnectForMs ?? 60_000;
  const cursor = { after: 0n };
  let failingSince: number | undefined;
  let failures = 0;
  let value: T | undefined = await source.fetch();
  if (!source.watchable(value)) return poll(source.fetch, source.settled, display, o);
  for (;;) {
    if (value !== undefined) {
      display.update(value);
      if (source.settled(value)) return value;
    }
    const opened = now();
    const end = await session(source, cursor, display);
    if (end.kind === "settled") return end.value;
    const code = codeOf(end.error);
    if (code === grpc.status.UNIMPLEMENTED) return poll(source.fetch, source.settled, display, o);
    if (end.error !== undefined && (o.signal?.aborted === true || !RESUMABLE.has(code))) throw end.error;
    if (source.resumes === true && end.from === "events" && GONE.has(code)) throw end.error;
    if (code === grpc.status.OUT_OF_RANGE) cursor.after = 0n;
    if (end.received || now() - opened >= HEALTHY_MS) [failingSince, failures] = [undefined, 0];
    // Reconnect: wait, get the plan again (the scheduler is back once it answers), reopen.
    for (value = undefined; value === undefined; ) {
      failingSince ??= now();
      if (now() - failingSince > reconnectForMs) throw end.error ?? new CliError("the plan event stream (WatchPlans) keeps ending");
      await sleep(Math.min(o.intervalMs * 2 ** failures++, MAX_BACKOFF_MS), o.signal);
      try {
        value = await source.fetch();
      } catch (err) {
        if (!GONE.has(codeOf(err)) || o.signal?.aborted === true) throw err;
      }
    }
  }
}

type SessionEnd<T> =
  | { readonly kind: "settled"; readonly value: T }
  | { readonly kind: "ended"; readonly error: unknown; readonly received: boolean; readonly from: "events" | "fetch" };

/**
 * One subscription: events are read as they come while the plan is got again after each that
 * concerns it; events that arrive during a GetPlan are covered by the next one. Returns when the
 * plan settles or the stream ends (with its error, if any).
 */
async function session<T>(source: FollowSource<T>, cursor: { after: bigint }, display: Display<T>): Promise<SessionEnd<T>> {
  const cancel = new AbortController();
  let stale = false;
  let received = false;
  let ended: { readonly error: unknown } | undefined;
  let wake = (): void => undefined;
  const pump = (async () => {
    try {
      const resumed = (): void => {
        stale = true;
        wake();
      };
      for await (const event of source.events(cursor.after, cancel.signal, resumed)) {
        received = true;
        if (event.sequence > cursor.after) cursor.after = event.sequence;
        if (source.concerns(event)) stale = true;
        wake();
      }
      ended = { error: undefined };
    } catch (error) {
      ended = { error };
    }
    wake();
  })();
  try {
    for (;;) {
      if (!stale && ended === undefined) await new Promise<void>((resolve) => (wake = resolve));
      if (stale) {
        stale = false;
        let value: T;
        try {
          value = await source.fetch();
        } catch (error) {
          // The scheduler is going away as it tells of a change (e.g. while it stops): reconnect.
          if (!GONE.has(codeOf(error))) throw error;
          return { kind: "ended", error, received, from: "fetch" };
        }
        display.update(value);
        if (source.settled(value)) return { kind: "settled", value };
      } else if (ended !== undefined) {
        return { kind: "ended", error: ended.error, received, from: "events" };
      }
    }
  } finally {
    cancel.abort();
    await pump;
  }
}

/** The scheduler went away (or is going): worth calling again. A Ctrl-C is CANCELLED too, and checked apart. */
const GONE: ReadonlySet<grpc.status | undefined> = new Set([grpc.status.UNAVAILABLE, grpc.status.CANCELLED]);
/** A stream that ended so is reopened. */
const RESUMABLE: ReadonlySet<grpc.status | undefined> = new Set([...GONE, grpc.status.RESOURCE_EXHAUSTED, grpc.status.OUT_OF_RANGE]);

const codeOf = (err: unknown): grpc.status | undefined => (err instanceof RpcError ? err.error.code : undefined);
