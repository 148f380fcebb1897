/**
 * `plan --watch` and `put --watch` over the WatchPlans stream. An event about the followed plan
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
 */
import * as grpc from "@grpc/grpc-js";
import type { Plan, PlanEvent } from "../client/index.js";
import { CliError, RpcError } from "./errors.js";
import { defaultSleep, isSettled, pollPlan } from "./plan-watch.js";
import type { PlanDisplay, WatchPlanOptions } from "./plan-watch.js";

/** Where a followed plan comes from. */
export interface PlanSource {
  /** The plan as it is now (GetPlan). */
  fetch(): Promise<Plan>;
  /** Plan events after `after` (WatchPlans); ends, or throws CANCELLED, once `signal` aborts. */
  events(after: bigint, signal: AbortSignal): AsyncIterable<PlanEvent>;
  /** Whether `event` changed the followed plan; throws to end the watch (CliError). */
  concerns(event: PlanEvent): boolean;
  /** Whether WatchPlans tells about this plan at all (otherwise it is polled). */
  watchable(plan: Plan): boolean;
}

export interface FollowPlanOptions extends WatchPlanOptions {
  /** How long a broken stream is retried before the watch fails with its error. @default 60_000 */
  readonly reconnectForMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

/** A stream that lived this long, or delivered an event, was healthy: its break starts a new retry window. */
const HEALTHY_MS = 2_000;
const MAX_BACKOFF_MS = 5_000;

/** Follows the plan until it is COMPLETE or in ERROR and returns that last plan. */
export async function followPlan(source: PlanSource, display: PlanDisplay, options: FollowPlanOptions): Promise<Plan> {
  try {
    return await follow(source, display, options);
  } finally {
    display.finish();
  }
}

async function follow(source: PlanSource, display: PlanDisplay, o: FollowPlanOptions): Promise<Plan> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? defaultSleep;
  const reconnectForMs = o.reconnectForMs ?? 60_000;
  const cursor = { after: 0n };
  let failingSince: number | undefined;
  let failures = 0;
  let plan: Plan | undefined = await source.fetch();
  if (!source.watchable(plan)) return pollPlan(source.fetch, display, o);
  for (;;) {
    if (plan !== undefined) {
      display.update(plan);
      if (isSettled(plan)) return plan;
    }
    const opened = now();
    const end = await session(source, cursor, display);
    if (end.kind === "settled") return end.plan;
    const code = codeOf(end.error);
    if (code === grpc.status.UNIMPLEMENTED) return pollPlan(source.fetch, display, o);
    if (end.error !== undefined && (o.signal?.aborted === true || !RESUMABLE.has(code))) throw end.error;
    if (code === grpc.status.OUT_OF_RANGE) cursor.after = 0n;
    if (end.received || now() - opened >= HEALTHY_MS) [failingSince, failures] = [undefined, 0];
    // Reconnect: wait, get the plan again (the scheduler is back once it answers), reopen.
    for (plan = undefined; plan === undefined; ) {
      failingSince ??= now();
      if (now() - failingSince > reconnectForMs) throw end.error ?? new CliError("the plan event stream (WatchPlans) keeps ending");
      await sleep(Math.min(o.intervalMs * 2 ** failures++, MAX_BACKOFF_MS), o.signal);
      try {
        plan = await source.fetch();
      } catch (err) {
        if (!GONE.has(codeOf(err)) || o.signal?.aborted === true) throw err;
      }
    }
  }
}

type SessionEnd = { readonly kind: "settled"; readonly plan: Plan } | { readonly kind: "ended"; readonly error: unknown; readonly received: boolean };

/**
 * One subscription: events are read as they come while the plan is got again after each that
 * concerns it; events that arrive during a GetPlan are covered by the next one. Returns when the
 * plan settles or the stream ends (with its error, if any).
 */
async function session(source: PlanSource, cursor: { after: bigint }, display: PlanDisplay): Promise<SessionEnd> {
  const cancel = new AbortController();
  let stale = false;
  let received = false;
  let ended: { readonly error: unknown } | undefined;
  let wake = (): void => undefined;
  const pump = (async () => {
    try {
      for await (const event of source.events(cursor.after, cancel.signal)) {
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
        let plan: Plan;
        try {
          plan = await source.fetch();
        } catch (error) {
          // The scheduler is going away as it tells of a change (e.g. while it stops): reconnect.
          if (!GONE.has(codeOf(error))) throw error;
          return { kind: "ended", error, received };
        }
        display.update(plan);
        if (isSettled(plan)) return { kind: "settled", plan };
      } else if (ended !== undefined) {
        return { kind: "ended", error: ended.error, received };
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
