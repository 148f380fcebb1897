/**
 * The CLI against a scripted MultiServiceAdmin (fake-admin.ts), for what the real scheduler
 * cannot do yet: uninstall --wait and watch-uninstall with events, a plan that ends in ERROR,
 * a call past its deadline, and the bearer token on every call.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type * as grpc from "@grpc/grpc-js";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ServiceState, Status, UninstallEventKind } from "../../src/client/index.js";
import type { GetPlanRequest, UninstallServiceRequest, WatchUninstallRequest } from "../../src/client/index.js";
import { SchedulerError } from "../../src/domain/errors.js";
import { failure, startFakeAdmin } from "./fake-admin.js";
import type { FakeAdmin } from "./fake-admin.js";
import { runCli, shown } from "./run-cli.js";
import type { CliResult } from "./run-cli.js";
import { tempDir } from "../use-temp-dir.js";

/** The server's time the current removal began; events before it belong to an older removal. */
const T = Date.parse("2030-01-01T00:00:00Z");

const event = (sequence: number, name: string, kind: UninstallEventKind, at: number, done: number, extra: object = {}) => ({
  event: { sequence: BigInt(sequence), name, kind, time: timestampFromMs(at), stepsComplete: done, stepsTotal: 2, ...extra },
});

let fake: FakeAdmin;
let getPlanCalls = 0;
const cli = (args: readonly string[]): Promise<CliResult> => runCli(args, { server: fake.address });

beforeAll(async () => {
  fake = await startFakeAdmin({
    listServices: (_call: unknown, cb: grpc.sendUnaryData<object>) => cb(null, { services: [] }),
    getPlan: (call: grpc.ServerUnaryCall<GetPlanRequest, object>, cb: grpc.sendUnaryData<object>) => {
      if (call.request.name === "slow") return; // never answers: the CLI's deadline must end it
      if (call.request.name === "stuck") return cb(null, { plan: { name: "deploy", status: Status.IN_PROGRESS } });
      getPlanCalls++;
      const failed = getPlanCalls > 1;
      cb(null, {
        plan: {
          name: "deploy",
          status: failed ? Status.ERROR : Status.IN_PROGRESS,
          errors: failed ? ["step db-0:[server] failed"] : [],
          phases: [{ id: "p1", name: "db", status: failed ? Status.ERROR : Status.STARTING, steps: [{ id: "s1", name: "db-0:[server]", status: failed ? Status.ERROR : Status.STARTING, message: failed ? "exit code 3" : "" }] }],
        },
      });
    },
    uninstallService: (call: grpc.ServerUnaryCall<UninstallServiceRequest, object>, cb: grpc.sendUnaryData<object>) =>
      // "legacy" plays a server without removal ids: the CLI then skips events by time.
      cb(null, { service: { name: call.request.name, state: ServiceState.UNINSTALLING, updatedTime: timestampFromMs(T), removalId: call.request.name === "legacy" ? 0n : 7n } }),
    watchUninstall: (call: grpc.ServerWritableStream<WatchUninstallRequest, object>) => {
      const [name] = call.request.names;
      if (name === undefined) {
        // A watch of every service never ends; this one breaks after #42 (the leader went away)
        // and is resumed after 42, where #43 follows.
        const after = Number(call.request.after);
        if (after < 42) {
          call.write(event(42, "db", UninstallEventKind.STARTED, T, 0));
          setTimeout(() => call.emit("error", failure(new SchedulerError("unavailable", "the scheduler stepped down"))), 20);
          return;
        }
        if (after === 42) call.write(event(43, "cache", UninstallEventKind.FORCED, T, 1, { leftovers: ["cache__t1"], message: "agent lost" }));
        return;
      }
      const ids = (id: bigint): object => (name === "legacy" ? {} : { removalId: id });
      // An earlier removal of the same name: stamped later than the current one began (a clock
      // step back), so only its removal id tells it apart.
      if (name !== "legacy") call.write(event(1, name, UninstallEventKind.COMPLETED, T + 5, 2, ids(1n)));
      call.write(event(2, name, UninstallEventKind.COMPLETED, T - 60_000, 2, ids(1n)));
      call.write(event(7, name, UninstallEventKind.STARTED, T, 0, ids(7n)));
      call.write(event(8, name, UninstallEventKind.PROGRESS, T + 1, 1, ids(7n)));
      call.write(name === "cache" ? event(9, name, UninstallEventKind.FORCED, T + 2, 1, { leftovers: ["cache__t1", "res-1"], ...ids(7n) }) : event(9, name, UninstallEventKind.COMPLETED, T + 2, 2, ids(7n)));
      // The stream stays open: the CLI must stop on the terminal event by itself.
    },
  });
});

afterAll(async () => {
  await fake?.stop();
});

describe("corral CLI against a scripted server", () => {
  it("uninstall --wait follows the current removal, skipping an older one, until COMPLETED", async () => {
    const r = await cli(["uninstall", "db", "--wait"]);
    expect(r.code, shown(r)).toBe(0);
    expect(r.stdout.trimEnd().split("\n")).toEqual([
      "db: uninstall started",
      "#7 2030-01-01T00:00:00.000Z db STARTED 0/2",
      "#8 2030-01-01T00:00:00.001Z db PROGRESS 1/2",
      "#9 2030-01-01T00:00:00.002Z db COMPLETED 2/2",
      "db: uninstalled",
    ]);
  });

  it("uninstall --wait on a server without removal ids skips an older removal by its time", async () => {
    const r = await cli(["uninstall", "legacy", "--wait"]);
    expect(r.code, shown(r)).toBe(0);
    expect(r.stdout.trimEnd().split("\n").slice(1, -1).map((l) => l.split(" ")[0])).toEqual(["#7", "#8", "#9"]);
  });

  it("uninstall --wait reports a FORCED removal's leftovers", async () => {
    const r = await cli(["uninstall", "cache", "--wait", "--json"]);
    expect(r.code, shown(r)).toBe(0);
    const lines = r.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ service: { name: "cache", state: "SERVICE_STATE_UNINSTALLING" } });
    expect(lines.slice(1).map((e) => e.kind)).toEqual(["UNINSTALL_EVENT_KIND_STARTED", "UNINSTALL_EVENT_KIND_PROGRESS", "UNINSTALL_EVENT_KIND_FORCED"]);
    expect(r.stderr).toContain("warning: cache was removed by force; left behind: cache__t1, res-1");
  });

  it("watch-uninstall prints one line per event, or JSON lines, resuming a broken stream after the last event seen, until Ctrl-C", async () => {
    const watch = (args: readonly string[]): Promise<CliResult> =>
      runCli(["watch-uninstall", "--after", "41", ...args], {
        server: fake.address,
        onStdout: (out, child) => {
          if (out.split("\n").length > 2) child.kill("SIGINT");
        },
      });
    const before = fake.calls.length;
    const r = await watch([]);
    expect(r.code, shown(r)).toBe(130);
    expect(r.stdout.trimEnd().split("\n")).toEqual([
      "#42 2030-01-01T00:00:00.000Z db STARTED 0/2",
      "#43 2030-01-01T00:00:00.000Z cache FORCED 1/2 agent lost leftovers: cache__t1",
    ]);
    expect(r.stderr).toBe("");
    expect(fake.calls.slice(before).map((c) => (c.request as WatchUninstallRequest).after)).toEqual([41n, 42n]);
    const j = await watch(["--json"]);
    expect(j.code, shown(j)).toBe(130);
    expect(j.stdout.trimEnd().split("\n").map((l) => JSON.parse(l).sequence)).toEqual(["42", "43"]);
  });

  it("plan --watch exits 5 once the plan is in ERROR and prints the failing step", async () => {
    getPlanCalls = 0;
    const r = await cli(["plan", "db", "--watch", "--interval", "10"]);
    expect(r.code, shown(r)).toBe(5);
    expect(r.stdout).toContain("db/db-0:[server] STARTING\nplan deploy IN_PROGRESS\ndb/db-0:[server] ERROR exit code 3\nplan deploy ERROR\n");
    expect(r.stderr).toContain("corral: plan deploy is in ERROR\n  step db-0:[server] failed\n  step db-0:[server]: exit code 3\n");
  });

  it("Ctrl-C stops plan --watch with exit 130", async () => {
    let sent = false;
    const r = await runCli(["plan", "stuck", "--watch", "--interval", "20"], {
      server: fake.address,
      onStdout: (out, child) => {
        if (sent || !out.includes("plan deploy IN_PROGRESS\n")) return;
        sent = true;
        child.kill("SIGINT");
      },
    });
    expect(r.code, shown(r)).toBe(130);
    expect(r.stderr).toBe("");
  });

  it("a call past --deadline fails with DEADLINE_EXCEEDED, exit 1", async () => {
    const r = await cli(["plan", "slow", "--deadline", "300"]);
    expect(r.code, shown(r)).toBe(1);
    expect(r.stderr).toContain("corral: GetPlan got no answer from");
    expect(r.stderr).toContain("within 300 ms (DEADLINE_EXCEEDED)");
  });

  it("--token-file (or CORRAL_TOKEN_FILE) sends authorization: Bearer <token>", async () => {
    const file = join(tempDir("cli"), "token");
    writeFileSync(file, "s3cret\n");
    const before = fake.calls.length;
    const viaFlag = await cli(["list", "--token-file", file]);
    expect(viaFlag.code, shown(viaFlag)).toBe(0);
    expect(viaFlag.stdout).toBe("no services\n");
    const viaEnv = await runCli(["list"], { server: fake.address, env: { CORRAL_TOKEN_FILE: file } });
    expect(viaEnv.code, shown(viaEnv)).toBe(0);
    expect(fake.calls.slice(before).map((c) => c.metadata.get("authorization"))).toEqual([["Bearer s3cret"], ["Bearer s3cret"]]);
  });
});
