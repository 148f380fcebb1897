/**
 * `corral plan --watch` through a failover, as a user of three replicas sees it: three scheduler
 * processes on one ZooKeeper root (the local cluster, one data directory), CORRAL_SERVER naming
 * all three, a canary deploy waiting for `continue`, a watching CLI. The leader is killed -9; a
 * standby takes over, the canary is released through the same list of addresses, and the same
 * CLI process — its WatchPlans stream resumed at the new leader after the last sequence it saw —
 * follows the plan to COMPLETE, each step shown COMPLETE once, with one notice on stderr. Its poll
 * interval is a minute, so only the resumed stream can bring it there in time.
 */
import type { ChildProcess } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { killSchedulers, startScheduler } from "../e2e/scheduler-process.js";
import type { SchedulerProcess } from "../e2e/scheduler-process.js";
import { killEverything, tempDataDir } from "../local/local-harness.js";
import { useZooKeeper } from "../zk/use-zookeeper.js";
import { CANARY_SPEC as SPEC, until as untilEvery } from "./canary-watch.js";
import { runCli, shown } from "./run-cli.js";
import type { CliResult } from "./run-cli.js";

const zk = useZooKeeper();

const dirs: string[] = [];
const watchers: ChildProcess[] = [];

afterEach(async () => {
  for (const w of watchers.splice(0)) if (w.exitCode === null) w.kill("SIGKILL");
  killSchedulers();
  for (const d of dirs.splice(0)) await killEverything(d);
});

/** A failover takes a session timeout and more: every 200 ms, for up to a minute. */
const until = (probe: () => Promise<boolean> | boolean, what: string): Promise<void> => untilEvery(probe, what, 300, 200);

const leads = (s: SchedulerProcess): boolean =>
  s.log.filter((l) => ["leading", "stepped down", "standing by"].includes(String(l["msg"]))).at(-1)?.["msg"] === "leading";

describe("plan --watch with three replicas", () => {
  it("goes on at the new leader when the leader is killed -9, each step COMPLETE once, one notice on stderr", async () => {
    const dataDir = tempDataDir();
    dirs.push(dataDir);
    const store = `zk://${zk().connect}/corral-cli-failover-${process.pid}`;
    const args = ["--store", store, "--cluster", "local", "--zk-session-timeout", "4", "--metrics-listen", "off"];
    const replicas = [await startScheduler(dataDir, args), await startScheduler(dataDir, args), await startScheduler(dataDir, args)];
    const server = replicas.map((r) => r.address).join(",");
    const cli = (cliArgs: readonly string[], stdin?: string): Promise<CliResult> => runCli(cliArgs, { server, ...(stdin === undefined ? {} : { stdin }) });
    const leader = replicas.find(leads)!;

    const put = await cli(["put", "canary", "-"], SPEC);
    expect(put.code, `put\n${shown(put)}`).toBe(0);

    let sawWaiting = false;
    const watching = runCli(["plan", "canary", "--watch", "--interval", "60000"], {
      server,
      onStdout: (out, child) => {
        if (!watchers.includes(child)) watchers.push(child);
        sawWaiting ||= /^world\/world-0:\[server\] WAITING$/m.test(out) && /^hello\/hello-0:\[server\] COMPLETE$/m.test(out);
      },
    });
    await until(() => sawWaiting, "the watching CLI shows the canary waiting for continue");

    leader.child.kill("SIGKILL");
    await leader.exited;
    const rest = replicas.filter((r) => r !== leader);
    await until(() => rest.some((r) => r.log.some((l) => l["msg"] === "serving as the leader")), "a standby serves as the leader");
    const next = rest.find(leads)!;

    for (const step of ["world-0:[server]", "world-1:[server]"]) {
      const released = await cli(["plan", "canary", "deploy", "continue", "world"]);
      expect(released.code, `continue\n${shown(released)}`).toBe(0);
      await until(async () => (await cli(["plan", "canary"])).stdout.match(new RegExp(`^world\\s+${step.replace(/[[\]]/g, "\\$&")}\\s+COMPLETE`, "m")) !== null, `${step} is COMPLETE`);
    }

    const watched = await watching;
    expect(watched.code, `watch\n${shown(watched)}`).toBe(0);
    const lines = watched.stdout.trimEnd().split("\n");
    for (const step of ["hello/hello-0:[server]", "world/world-0:[server]", "world/world-1:[server]"]) {
      expect(lines.filter((l) => l === `${step} COMPLETE`), shown(watched)).toHaveLength(1);
    }
    expect(lines.at(-1)).toBe("plan deploy COMPLETE");
    expect(watched.stderr).toBe(`corral: leader changed; continuing at ${next.address}\n`);
  }, 240_000);
});
