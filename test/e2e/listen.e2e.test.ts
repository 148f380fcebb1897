/**
 * The listen address as a new user meets it: `--listen :0` is a free loopback port and the
 * start-up line says which; a port in use is refused with one line naming the address and
 * --listen before anything is written to the data directory; two schedulers on one data
 * directory are still refused; `--wait-for-lock` waits for a scheduler being replaced to free
 * the port as well as the lock, and a signal while it waits stops it at once (exit 0) and leaves
 * the scheduler it was waiting for serving.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import type { Server } from "node:net";
import { join } from "node:path";
import { createInterface } from "node:readline";
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus, createAdminClient, createPromiseClient } from "../../src/client/index.js";
import { tempDir } from "../use-temp-dir.js";
import { canBind, freePort } from "./ports.js";
import { ROOT, killSchedulers, runToEnd, startScheduler } from "./scheduler-process.js";

const root = tempDir("listen");
let dirs = 0;
const newDir = (): string => join(root, `d${++dirs}`);
const held: Server[] = [];
const spawned: ChildProcess[] = [];

afterEach(async () => {
  killSchedulers();
  for (const c of spawned.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await Promise.all(held.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** `src/main.ts <args>`, its stdout's JSON messages collected; `seen(msg)` settles once one is logged. */
function spawnWaiting(args: readonly string[]): {
  child: ChildProcess;
  exited: Promise<number | null>;
  messages: string[];
  seen(msg: string): Promise<void>;
} {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
  spawned.push(child);
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  const messages: string[] = [];
  createInterface({ input: child.stdout! }).on("line", (line) => messages.push((JSON.parse(line) as { msg: string }).msg));
  const seen = (msg: string): Promise<void> =>
    new Promise((resolve) => {
      const check = (): void => void (messages.includes(msg) ? resolve() : setTimeout(check, 50));
      check();
    });
  return { child, exited, messages, seen };
}

/** The scheduler run to its end: exit code and stderr. */
async function holdPort(): Promise<number> {
  const port = await freePort();
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  held.push(server);
  return port;
}

describe("--listen", () => {
  it(":0 listens on a free loopback port and the start-up line names it, the cluster, the store and the data directory", async () => {
    const dir = newDir();
    const s = await startScheduler(dir, ["--listen", ":0", "--cluster", "sim"]);
    const serving = s.log.find((e) => e["msg"] === "corral is serving")!;
    expect(serving).toMatchObject({ address: expect.stringMatching(/^127\.0\.0\.1:[1-9]\d*$/), cluster: "sim", store: "sqlite", dataDir: dir });
    const health = createPromiseClient(Health, s.address);
    try {
      expect((await health.check({ service: "" })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    } finally {
      health.close();
    }
    s.child.kill("SIGTERM");
    expect(await s.exited).toBe(0);
  });

  it("refuses a port in use in one line naming the address and --listen, with nothing written to the data directory", async () => {
    const port = await holdPort();
    const dir = newDir();
    const { code, stderr } = await runToEnd(["--listen", `127.0.0.1:${port}`, "--data-dir", dir]);
    expect(code).toBe(1);
    expect(stderr).toBe(`corral: cannot listen on 127.0.0.1:${port}: address already in use (choose another with --listen)\n`);
    expect(existsSync(dir)).toBe(false);
  });

  it("still refuses a second scheduler on the same data directory, and leaves the first serving", async () => {
    const dir = newDir();
    const first = await startScheduler(dir, ["--cluster", "sim"]);
    const { code, stderr } = await runToEnd(["--listen", "127.0.0.1:0", "--cluster", "sim", "--data-dir", dir]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^corral: another Corral scheduler holds .*corral\.lock \(pid \d+\)\n$/);
    expect(first.child.exitCode).toBe(null);
    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);
  });

  it("--wait-for-lock takes over the port and the data directory of the scheduler it replaces", async () => {
    const dir = newDir();
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    const old = await startScheduler(dir, ["--listen", address, "--cluster", "sim"]);
    const next = spawnWaiting(["--listen", address, "--cluster", "sim", "--data-dir", dir, "--wait-for-lock", "60"]);
    await next.seen("the listen address is in use; waiting for it (--wait-for-lock)");
    old.child.kill("SIGTERM");
    expect(await old.exited).toBe(0);
    await next.seen("corral is serving");
    next.child.kill("SIGTERM");
    expect(await next.exited).toBe(0);
  });

  it("a scheduler waiting for the lock holds its port: NOT_SERVING, admin calls UNAVAILABLE; SIGTERM stops it at once, exit 0, the holder still serving", async () => {
    const dir = newDir();
    const first = await startScheduler(dir, ["--cluster", "sim"]);
    const address = `127.0.0.1:${await freePort()}`;
    const second = spawnWaiting(["--listen", address, "--cluster", "sim", "--data-dir", dir, "--wait-for-lock", "600"]);
    const health = createPromiseClient(Health, address);
    const admin = createAdminClient({ address, defaultDeadlineMs: 5000 });
    try {
      let status: HealthCheckResponse_ServingStatus | undefined;
      for (let i = 0; status === undefined && i < 200; i++) {
        status = await health.check({ service: "" }, { deadlineMs: 1000 }).then((r) => r.status, () => undefined);
        if (status === undefined) await new Promise((r) => setTimeout(r, 50));
      }
      expect(status).toBe(HealthCheckResponse_ServingStatus.NOT_SERVING);
      await expect(admin.listServices({})).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE, details: expect.stringMatching(/starting/) });
      second.child.kill("SIGTERM");
      // Well before the 600 s wait would end (the test's own timeout is far shorter).
      expect(await second.exited).toBe(0);
      expect(second.messages).toEqual(expect.arrayContaining(["shutting down before start-up finished", "stopped before start-up finished"]));
      expect(await canBind(Number(address.slice(address.lastIndexOf(":") + 1)))).toBe(true);
      expect(first.child.exitCode).toBe(null);
      const firstHealth = createPromiseClient(Health, first.address);
      try {
        expect((await firstHealth.check({ service: "" })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
      } finally {
        firstHealth.close();
      }
      first.child.kill("SIGTERM");
      expect(await first.exited).toBe(0);
    } finally {
      health.close();
      admin.close();
    }
  });

  it("a scheduler waiting for its port stops at once on SIGTERM, exit 0, having written nothing", async () => {
    const port = await holdPort();
    const dir = newDir();
    const waiting = spawnWaiting(["--listen", `127.0.0.1:${port}`, "--cluster", "sim", "--data-dir", dir, "--wait-for-lock", "600"]);
    await waiting.seen("the listen address is in use; waiting for it (--wait-for-lock)");
    waiting.child.kill("SIGTERM");
    expect(await waiting.exited).toBe(0);
    expect(waiting.messages).toContain("stopped before start-up finished");
    expect(existsSync(dir)).toBe(false);
  });
});
