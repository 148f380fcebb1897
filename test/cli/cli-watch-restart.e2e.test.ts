/**
 * `corral plan NAME --watch` across a scheduler restart: the scheduler as its own process on
 * the local cluster (SQLite store), a canary deploy waiting for `continue`, a watching CLI; the
 * scheduler is stopped and started again on the same address and data directory, the canary
 * released twice, and the same CLI process — its WatchPlans stream reopened after the last
 * sequence it saw — follows the plan to COMPLETE. Its poll interval is a minute, so only the
 * stream can bring it there in time.
 */
import type { ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { killSchedulers, startScheduler } from "../e2e/scheduler-process.js";
import { killEverything, tempDataDir } from "../local/local-harness.js";
import { CANARY_SPEC as SPEC, until } from "./canary-watch.js";
import { runCli, shown } from "./run-cli.js";
import type { CliResult } from "./run-cli.js";

const dirs: string[] = [];
const watchers: ChildProcess[] = [];

afterEach(async () => {
  for (const w of watchers.splice(0)) if (w.exitCode === null) w.kill("SIGKILL");
  killSchedulers();
  for (const d of dirs.splice(0)) await killEverything(d);
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("plan --watch across a scheduler restart", () => {
  it("reopens the stream on the restarted scheduler and follows the plan to COMPLETE", async () => {
    const dataDir = tempDataDir();
    dirs.push(dataDir);
    const address = `127.0.0.1:${await freePort()}`;
    const listen = ["--listen", address];
    const first = await startScheduler(dataDir, listen);
    const cli = (args: readonly string[], stdin?: string): Promise<CliResult> => runCli(args, { server: address, ...(stdin === undefined ? {} : { stdin }) });
    const put = await cli(["put", "canary", "-"], SPEC);
    expect(put.code, `put\n${shown(put)}`).toBe(0);

    let sawWaiting = false;
    const watching = runCli(["plan", "canary", "--watch", "--interval", "60000"], {
      server: address,
      onStdout: (out, child) => {
        if (!watchers.includes(child)) watchers.push(child);
        sawWaiting ||= /^world\/world-0:\[server\] WAITING$/m.test(out) && /^hello\/hello-0:\[server\] COMPLETE$/m.test(out);
      },
    });
    await until(() => Promise.resolve(sawWaiting), "the watching CLI shows the canary waiting for continue");

    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    await startScheduler(dataDir, listen);

    for (const step of ["world-0:[server]", "world-1:[server]"]) {
      const released = await cli(["plan", "canary", "deploy", "continue", "world"]);
      expect(released.code, `continue\n${shown(released)}`).toBe(0);
      expect(released.stdout.split("\n")[0]).toBe("canary: plan deploy, phase world: continue done");
      await until(async () => (await cli(["plan", "canary"])).stdout.match(new RegExp(`^world\\s+${step.replace(/[[\]]/g, "\\$&")}\\s+COMPLETE`, "m")) !== null, `${step} is COMPLETE`);
    }

    const watched = await watching;
    expect(watched.code, `watch\n${shown(watched)}`).toBe(0);
    const lines = watched.stdout.trimEnd().split("\n");
    expect(lines).toContain("world/world-0:[server] COMPLETE");
    expect(lines).toContain("world/world-1:[server] COMPLETE");
    expect(lines.at(-1)).toBe("plan deploy COMPLETE");
    expect(watched.stderr).toBe("");
  }, 180_000);
});
