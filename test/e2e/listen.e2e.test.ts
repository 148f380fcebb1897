/**
 * The listen address as a new user meets it: `--listen :0` is a free loopback port and the
 * start-up line says which; a port in use is refused with one line naming the address and
 * --listen before anything is written to the data directory; two schedulers on one data
 * directory are still refused; `--wait-for-lock` waits for a scheduler being replaced to free
 * the port as well as the lock.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import type { Server } from "node:net";
import { join } from "node:path";
import { createInterface } from "node:readline";
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus, createAdminClient, createPromiseClient } from "../../src/client/index.js";
import { tempDir } from "../use-temp-dir.js";
import { freePort } from "./ports.js";
import { ROOT, killSchedulers, startScheduler } from "./scheduler-process.js";

const root = tempDir("listen");
let dirs = 0;
const newDir = (): string => join(root, `d${++dirs}`);
const held: Server[] = [];

afterEach(async () => {
  killSchedulers();
  await Promise.all(held.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** The scheduler run to its end: exit code and stderr. */
async function runToEnd(args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", ...args], { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  return { code, stderr };
}

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
    const next = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "--listen", address, "--cluster", "sim", "--data-dir", dir, "--wait-for-lock", "60"], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = new Promise<number | null>((resolve) => next.on("exit", resolve));
    try {
      const messages: string[] = [];
      const seen = (msg: string): Promise<void> =>
        new Promise((resolve) => {
          const check = (): void => void (messages.includes(msg) ? resolve() : setTimeout(check, 50));
          check();
        });
      createInterface({ input: next.stdout }).on("line", (line) => messages.push((JSON.parse(line) as { msg: string }).msg));
      await seen("the listen address is in use; waiting for it (--wait-for-lock)");
      old.child.kill("SIGTERM");
      expect(await old.exited).toBe(0);
      await seen("corral is serving");
      next.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      next.kill("SIGKILL");
    }
  });

  it("a scheduler waiting for the lock holds its port: NOT_SERVING, admin calls UNAVAILABLE; a signal then stops it once it is up", async () => {
    const dir = newDir();
    const first = await startScheduler(dir, ["--cluster", "sim"]);
    const address = `127.0.0.1:${await freePort()}`;
    const second = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "--listen", address, "--cluster", "sim", "--data-dir", dir, "--wait-for-lock", "60"], {
      cwd: ROOT,
      stdio: ["ignore", "ignore", "inherit"],
    });
    const exited = new Promise<number | null>((resolve) => second.on("exit", resolve));
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
      second.kill("SIGTERM");
      first.child.kill("SIGTERM");
      expect(await first.exited).toBe(0);
      expect(await exited).toBe(0);
    } finally {
      health.close();
      admin.close();
      second.kill("SIGKILL");
    }
  });
});
