/**
 * `plan --watch` and `put --watch` over WatchPlans, against a scripted MultiServiceAdmin whose
 * plans advance one step each time its stream sends an event. `--interval` is a minute, so a
 * CLI that polled instead of following the stream would not finish within the test's timeout.
 * Covered: events of other plans and generations, a stream that breaks (reopened with `after`),
 * a scheduler that goes away and comes back on the same port, and a later generation (exit 6).
 */
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PlanSchema, PutOutcome, Status, Strategy } from "../../src/client/index.js";
import type { GetPlanRequest, Plan, PutServiceRequest, WatchPlansRequest } from "../../src/client/index.js";
import { startFakeAdmin } from "./fake-admin.js";
import type { FakeAdmin, FakeHandlers } from "./fake-admin.js";
import { runCli, shown } from "./run-cli.js";
import type { CliResult } from "./run-cli.js";

const NO_POLLING = ["--interval", "60000"];
const STEPS = ["world-0:[server]", "world-1:[server]"];

/** The plan with the first `done` steps COMPLETE, the next one STARTING (or in ERROR when `fail`). */
function planAt(name: string, done: number, fail = false): Plan {
  const statusOf = (i: number): Status => (i < done ? Status.COMPLETE : i === done ? (fail ? Status.ERROR : Status.STARTING) : Status.PENDING);
  const status = done === STEPS.length ? Status.COMPLETE : fail ? Status.ERROR : Status.IN_PROGRESS;
  return create(PlanSchema, {
    name,
    status,
    strategy: Strategy.SERIAL,
    errors: fail ? [`step ${STEPS[done]} failed`] : [],
    phases: [{ id: "ph", name: "world", status, steps: STEPS.map((s, i) => ({ id: `st${i}`, name: s, status: statusOf(i), message: fail && i === done ? "exit code 3" : "" })) }],
  });
}

/**
 * A service whose plan advances one step per event its WatchPlans stream sends (every 40 ms
 * after the stream opens), from wherever it is; `breakAfter` events into the first stream, the
 * stream fails with UNAVAILABLE.
 */
interface Story {
  readonly plan: string;
  readonly generation: bigint;
  done: number;
  readonly fail?: boolean;
  readonly breakAfter?: number;
  /** The stream advances the plan no further than this many steps. */
  readonly stopAt?: number;
  /** Extra events sent first: other plans, other generations. */
  readonly noise?: { plan: string; generation: bigint }[];
  streams: number;
}

let sequence = 100n;
const stories = new Map<string, Story>();
const story = (name: string, s: Partial<Story> = {}): Story => {
  const made: Story = { plan: "deploy", generation: 1n, done: 0, streams: 0, ...s };
  stories.set(name, made);
  return made;
};

const ev = (name: string, st: Story, plan = st.plan, generation = st.generation) => ({
  event: {
    sequence: ++sequence,
    name,
    generation,
    plan,
    phase: "world",
    step: STEPS[Math.min(st.done, STEPS.length - 1)]!,
    status: Status.COMPLETE,
    time: timestampFromMs(Date.now()),
    planStatus: planAt(plan, st.done).status,
  },
});

function handlers(): FakeHandlers {
  return {
    getPlan: (call: grpc.ServerUnaryCall<GetPlanRequest, object>, cb: grpc.sendUnaryData<object>) => {
      const st = stories.get(call.request.name);
      if (st === undefined) return cb({ code: grpc.status.NOT_FOUND, details: `service ${call.request.name} not found` } as grpc.ServiceError);
      cb(null, { plan: planAt(st.plan, st.done, st.fail === true && st.done === 1) });
    },
    putService: (call: grpc.ServerUnaryCall<PutServiceRequest, object>, cb: grpc.sendUnaryData<object>) => {
      const st = stories.get(call.request.name)!;
      cb(null, { outcome: PutOutcome.UPDATED, service: { name: call.request.name, generation: st.generation }, change: { plan: planAt(st.plan, st.done) } });
    },
    watchPlans: (call: grpc.ServerWritableStream<WatchPlansRequest, object>) => {
      const name = call.request.names[0]!;
      const st = stories.get(name);
      if (name === "legacy" || st === undefined) {
        call.emit("error", name === "legacy" ? { code: grpc.status.UNIMPLEMENTED, details: "no WatchPlans here" } : { code: grpc.status.NOT_FOUND, details: `service ${name} not found` });
        return;
      }
      const first = st.streams++ === 0;
      for (const n of st.noise ?? []) call.write(ev(name, st, n.plan, n.generation));
      let sent = 0;
      const timer = setInterval(() => {
        if (first && st.breakAfter !== undefined && sent === st.breakAfter) {
          clearInterval(timer);
          call.emit("error", { code: grpc.status.UNAVAILABLE, details: "stream dropped" });
          return;
        }
        if (st.done >= (st.stopAt ?? STEPS.length) || (st.fail === true && st.done === 1)) {
          clearInterval(timer);
          return;
        }
        st.done++;
        sent++;
        call.write(ev(name, st));
      }, 40);
      call.on("cancelled", () => clearInterval(timer));
    },
  };
}

let fake: FakeAdmin;
const cli = (args: readonly string[]): Promise<CliResult> => runCli([...args, ...NO_POLLING], { server: fake.address });
const watchRequests = (name: string): WatchPlansRequest[] =>
  fake.calls.filter((c) => c.method === "watchPlans" && (c.request as WatchPlansRequest).names[0] === name).map((c) => c.request as WatchPlansRequest);

beforeAll(async () => {
  fake = await startFakeAdmin(handlers());
});

afterAll(async () => {
  await fake?.stop();
});

describe("plan --watch over WatchPlans", () => {
  it("follows the stream: one line per step change, exit 0 once COMPLETE; events of other plans are not followed", async () => {
    story("lines", { noise: [{ plan: "recovery", generation: 1n }] });
    const r = await cli(["plan", "lines", "--watch"]);
    expect(r.code, shown(r)).toBe(0);
    expect(r.stdout.trimEnd().split("\n")).toEqual([
      "world/world-0:[server] STARTING",
      "world/world-1:[server] PENDING",
      "plan deploy IN_PROGRESS",
      "world/world-0:[server] COMPLETE",
      "world/world-1:[server] STARTING",
      "world/world-1:[server] COMPLETE",
      "plan deploy COMPLETE",
    ]);
    expect(watchRequests("lines")).toEqual([expect.objectContaining({ names: ["lines"], after: 0n })]);
    // The first GetPlan, one per event about the plan, none for the recovery plan's event.
    expect(fake.calls.filter((c) => c.method === "getPlan" && (c.request as GetPlanRequest).name === "lines")).toHaveLength(3);
  });

  it("--json prints the last plan only", async () => {
    story("quiet");
    const r = await cli(["plan", "quiet", "--watch", "--json"]);
    expect(r.code, shown(r)).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ name: "deploy", status: "STATUS_COMPLETE" });
  });

  it("a plan that reaches ERROR exits 5 and names the failed step", async () => {
    story("broken", { fail: true });
    const r = await cli(["plan", "broken", "--watch"]);
    expect(r.code, shown(r)).toBe(5);
    expect(r.stdout).toContain("world/world-1:[server] ERROR exit code 3\nplan deploy ERROR\n");
    expect(r.stderr).toBe("corral: plan deploy is in ERROR\n  step world-1:[server] failed\n  step world-1:[server]: exit code 3\n");
  });

  it("a stream that breaks (UNAVAILABLE) is reopened after the last event seen", async () => {
    story("flaky", { breakAfter: 1 });
    const r = await runCli(["plan", "flaky", "--watch", "--interval", "50"], { server: fake.address });
    expect(r.code, shown(r)).toBe(0);
    expect(r.stdout.trimEnd().split("\n").at(-1)).toBe("plan deploy COMPLETE");
    const [first, second] = watchRequests("flaky");
    expect(first?.after).toBe(0n);
    expect(second?.after).toBeGreaterThan(100n);
  });

  it("an older scheduler without WatchPlans (UNIMPLEMENTED) is polled", async () => {
    const st = story("legacy");
    const r = await runCli(["plan", "legacy", "--watch", "--interval", "30"], {
      server: fake.address,
      onStdout: (out) => {
        if (out.includes("plan deploy IN_PROGRESS")) st.done = STEPS.length; // finishes behind the CLI's back
      },
    });
    expect(r.code, shown(r)).toBe(0);
    expect(r.stdout.trimEnd().split("\n").at(-1)).toBe("plan deploy COMPLETE");
  });

  it("an unknown service is NOT_FOUND, exit 3", async () => {
    const r = await cli(["plan", "nobody", "--watch"]);
    expect(r.code, shown(r)).toBe(3);
  });

  it("plan NAME PLAN ACTION --watch acts, then follows", async () => {
    story("steered");
    const control: FakeHandlers = {
      controlPlan: (_call: unknown, cb: grpc.sendUnaryData<object>) => cb(null, { plan: planAt("deploy", 0), changed: true }),
    };
    const own = await startFakeAdmin({ ...handlers(), ...control });
    try {
      const r = await runCli(["plan", "steered", "deploy", "continue", "--watch", ...NO_POLLING], { server: own.address });
      expect(r.code, shown(r)).toBe(0);
      const lines = r.stdout.trimEnd().split("\n");
      expect(lines[0]).toBe("steered: plan deploy: continue done");
      expect(lines.at(-1)).toBe("plan deploy COMPLETE");
    } finally {
      await own.stop();
    }
  });
});

describe("put --watch over WatchPlans", () => {
  it("follows the plan of the generation it put; earlier generations' events are not about it", async () => {
    story("upd", { plan: "update", generation: 4n, noise: [{ plan: "update", generation: 3n }] });
    const r = await runCli(["put", "upd", "-", "--watch", ...NO_POLLING], { server: fake.address, stdin: "name: upd\n" });
    expect(r.code, shown(r)).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^upd: UPDATED \(generation 4, /);
    expect(lines.at(-1)).toBe("plan update COMPLETE");
    expect(fake.calls.filter((c) => c.method === "getPlan" && (c.request as GetPlanRequest).name === "upd").map((c) => (c.request as GetPlanRequest).plan)).toEqual(["update", "update", "update"]);
  });

  it("a later generation while following exits 6 (someone put the service again)", async () => {
    story("raced", { generation: 2n, noise: [{ plan: "deploy", generation: 3n }] });
    const r = await runCli(["put", "raced", "-", "--watch", ...NO_POLLING], { server: fake.address, stdin: "name: raced\n" });
    expect(r.code, shown(r)).toBe(6);
    expect(r.stderr).toBe("corral: raced was put again (generation 3) while the CLI followed generation 2; follow it with: corral plan raced --watch\n");
  });
});

describe("a scheduler that goes away while watched", () => {
  it("is waited for and followed again once it is back on the same port", async () => {
    const first = await startFakeAdmin(handlers());
    const address = first.address;
    const st = story("restarted", { stopAt: 1 });
    let second: FakeAdmin | undefined;
    let stopped = false;
    try {
      const r = await runCli(["plan", "restarted", "--watch", "--interval", "50"], {
        server: address,
        onStdout: (out) => {
          if (stopped || !out.includes("world/world-0:[server] COMPLETE")) return;
          stopped = true;
          void first.stop().then(async () => {
            await new Promise((resolve) => setTimeout(resolve, 300));
            st.done = STEPS.length; // finished while the scheduler was away
            second = await startFakeAdmin(handlers(), { port: Number(address.split(":")[1]) });
          });
        },
      });
      expect(r.code, shown(r)).toBe(0);
      expect(r.stdout.trimEnd().split("\n").at(-1)).toBe("plan deploy COMPLETE");
      expect(second?.calls.some((c) => c.method === "getPlan")).toBe(true);
    } finally {
      await first.stop();
      await second?.stop();
    }
  });
});
