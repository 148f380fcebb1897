/**
 * Failover (issue 17, deliverable 2) with three real scheduler processes on a real ZooKeeper and
 * one shared data directory (so one local agent): services deploying and one uninstalling with a
 * WatchUninstall client attached, kill -9 of the leader; a standby takes over and finishes the
 * work — the deploys complete, the removal completes, one live process per task name, nothing
 * orphaned, never two leaders at once — and the watch client, resuming on the new leader by
 * sequence number, saw each event of the removal once. No time is asserted (rule 5).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ServiceState, Status, UninstallEventKind } from "../../src/client/index.js";
import type { AdminClient } from "../../src/client/index.js";
import { knownTaskIds, worldProblems } from "../chaos/chaos.js";
import { leaderIntervals, leaderOverlaps } from "../chaos/leader-intervals.js";
import { ReplicaSet } from "../chaos/replica-set.js";
import { SLOW_STOP, specText } from "../chaos/specs.js";
import { uninstallEventProblems } from "../chaos/uninstall-events.js";
import { FollowingUninstallWatcher, ResumingUninstallWatcher } from "../chaos/leader-calls.js";
import { killEverything, tempDataDir } from "../local/local-harness.js";
import { useZooKeeper } from "../zk/use-zookeeper.js";

const zk = useZooKeeper();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let set: ReplicaSet | undefined;
let watcher: ResumingUninstallWatcher | undefined;
let follower: FollowingUninstallWatcher | undefined;
let dataDir: string | undefined;
afterEach(async () => {
  await watcher?.close();
  await follower?.close();
  await set?.close();
  if (dataDir) await killEverything(dataDir);
  watcher = follower = set = dataDir = undefined;
});

/** Polls `check` until it returns a value; throws naming `what` after 3 minutes (a generous bound, not a time assertion). */
async function until<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`not reached in 3 minutes: ${what}`);
    await sleep(100);
  }
}

describe("failover with three scheduler processes", () => {
  it("finishes deploys and a removal after kill -9 of the leader: nothing lost, duplicated or orphaned, each uninstall event seen once", async () => {
    dataDir = tempDataDir("failover");
    const logDir = join(dataDir, "logs");
    mkdirSync(logDir, { recursive: true });
    const replicas = new ReplicaSet({ store: `zk://${zk().connect}/failover-${process.pid}`, dataDir, logDir, sessionTimeoutS: 4 });
    set = replicas;
    await replicas.start(3);
    const first = await set.untilLeader(120_000);
    expect(first).toBeGreaterThanOrEqual(0);
    const leader = set.slots[first]!;
    const others = set.slots.filter((r) => r !== leader);
    const onLeader = <T>(call: (c: AdminClient) => Promise<T>): Promise<T> => replicas.clients.onLeader(call, 60_000);

    // A service to remove (its task takes 8 s to stop), deployed; then the watch client, two
    // deploys and the removal, and the kill.
    await onLeader((c) => c.putService({ name: "old", spec: SLOW_STOP, parameters: {} }));
    await until("old deployed", async () => ((await onLeader((c) => c.getPlan({ name: "old" }))).plan?.status === Status.COMPLETE ? true : undefined));
    watcher = new ResumingUninstallWatcher(set.clients);
    follower = new FollowingUninstallWatcher(set.slots.map((r) => set!.address(r)!));
    await onLeader((c) => c.putService({ name: "new-a", spec: specText("short-lived"), parameters: {} }));
    await onLeader((c) => c.putService({ name: "new-b", spec: specText("volume"), parameters: {} }));
    await onLeader((c) => c.uninstallService({ name: "old" }));
    await set.kill(leader);
    const seenBeforeKill = watcher.events.length;

    // Another replica leads and finishes the work.
    const next = await set.untilLeader(120_000, leader);
    expect(others).toContain(set.slots[next]);
    for (const name of ["new-a", "new-b"]) {
      await until(`${name} deployed under the new leader`, async () => ((await onLeader((c) => c.getPlan({ name }))).plan?.status === Status.COMPLETE ? true : undefined));
    }
    const services = await until("old removed under the new leader", async () => {
      const list = (await onLeader((c) => c.listServices({}))).services;
      return list.some((s) => s.name === "old") ? undefined : list;
    });
    expect(services.map((s) => [s.name, s.state])).toEqual([
      ["new-a", ServiceState.RUNNING],
      ["new-b", ServiceState.RUNNING],
    ]);

    // Both watch clients (the harness's resuming loop, the typed client's followUninstall with the
    // three addresses) saw the removal end, each event once, across the failover; it ended under
    // the new leader, so each resumed there.
    const terminal = (e: { kind: UninstallEventKind }): boolean => e.kind === UninstallEventKind.COMPLETED;
    for (const w of [watcher, follower]) {
      expect(await w.waitFor(["old"], terminal, 60_000)).toBe(true);
      expect(uninstallEventProblems(w.events, ["old"])).toEqual([]);
      expect(w.events.filter((e) => e.name === "old").map((e) => e.kind).at(0)).toBe(UninstallEventKind.STARTED);
      expect(w.streams).toBeGreaterThanOrEqual(2);
    }
    expect(watcher.events.findIndex(terminal)).toBeGreaterThanOrEqual(seenBeforeKill);
    expect(follower.events.map((e) => e.sequence)).toEqual(watcher.events.map((e) => e.sequence));

    // The machine: one live task per task name, nothing that no service owns (given time to settle).
    const names = new Set(["new-a", "new-b"]);
    let problems = worldProblems(dataDir, names, await onLeader((c) => knownTaskIds(c, [...names])));
    const duplicates = new Set(problems.duplicates);
    for (let i = 0; i < 100 && problems.unsettled.length > 0; i++) {
      await sleep(200);
      problems = worldProblems(dataDir, names, await onLeader((c) => knownTaskIds(c, [...names])));
      for (const d of problems.duplicates) duplicates.add(d);
    }
    expect([...duplicates]).toEqual([]);
    expect(problems.unsettled).toEqual([]);
    expect(leaderOverlaps(leaderIntervals(set.all, Date.now()))).toEqual([]);
  }, 600_000);
});
