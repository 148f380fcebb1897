import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { acquireDataDirLock, acquireSharedDataDirLock } from "../file-lock.js";
import { SqlitePersister } from "./sqlite-persister.js";

const root = mkdtempSync(join(tmpdir(), "corral-lock-"));
let n = 0;
const freshDir = (): string => join(root, `d${++n}`);
const moduleUrl = new URL("../file-lock.ts", import.meta.url).href;
const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

/**
 * A second Node process that tries to take the lock on `dir` (`shared`: a replica's hold). It
 * prints "locked" or "refused <code> <message>" and, when it got the lock, keeps it until killed.
 */
function spawnLocker(dir: string, shared = false): { child: ChildProcess; outcome: Promise<string> } {
  const script = `
    const { acquireDataDirLock, acquireSharedDataDirLock } = await import(${JSON.stringify(moduleUrl)});
    try {
      await (${shared} ? acquireSharedDataDirLock : acquireDataDirLock)(${JSON.stringify(dir)});
      console.log("locked");
      setInterval(() => {}, 1 << 30);
    } catch (err) {
      console.log("refused " + err.code + " " + err.message);
      process.exit(0);
    }
  `;
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  const outcome = new Promise<string>((resolve, reject) => {
    let out = "";
    let err = "";
    child.stdout!.on("data", (b: Buffer) => {
      out += b.toString();
      const line = out.split("\n").find((l) => l.startsWith("locked") || l.startsWith("refused"));
      if (line) resolve(line);
    });
    child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
    child.on("exit", (code, signal) => reject(new Error(`locker exited (${code ?? signal}): ${out}${err}`)));
  });
  return { child, outcome };
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

describe("acquireDataDirLock", () => {
  it("refuses a second holder in this process until the first releases", async () => {
    const dir = freshDir();
    const first = await acquireDataDirLock(dir);
    expect(first.path).toBe(join(dir, "corral.lock"));
    await expect(acquireDataDirLock(dir)).rejects.toMatchObject({
      code: "failed_precondition",
      message: `another Corral scheduler holds ${join(dir, "corral.lock")} (pid ${process.pid})`,
    });
    await first.release();
    await first.release();
    const second = await acquireDataDirLock(dir);
    await second.release();
  });

  it("waits for the lock when asked to", async () => {
    const dir = freshDir();
    const first = await acquireDataDirLock(dir);
    setTimeout(() => void first.release(), 100);
    const second = await acquireDataDirLock(dir, { waitMs: 5_000, pollMs: 20 });
    await second.release();
  });

  it("stops waiting when its signal aborts, rejecting with the signal's reason and holding nothing", async () => {
    const dir = freshDir();
    const first = await acquireDataDirLock(dir);
    const abort = new AbortController();
    const reason = new Error("stop");
    const waiting = acquireDataDirLock(dir, { waitMs: 600_000, pollMs: 60_000, signal: abort.signal });
    setTimeout(() => abort.abort(reason), 50);
    await expect(waiting).rejects.toBe(reason);
    await expect(acquireDataDirLock(dir, { signal: abort.signal })).rejects.toBe(reason);
    await first.release();
    const again = await acquireDataDirLock(dir);
    await again.release();
  });

  it("refuses another process while held, and lets it in after release", async () => {
    const dir = freshDir();
    const mine = await acquireDataDirLock(dir);
    const refused = spawnLocker(dir);
    expect(await refused.outcome).toBe(
      `refused failed_precondition another Corral scheduler holds ${join(dir, "corral.lock")} (pid ${process.pid})`,
    );
    await mine.release();
    const other = spawnLocker(dir);
    expect(await other.outcome).toBe("locked");
    other.child.kill("SIGKILL");
    await exited(other.child);
  });

  it("is refused while another process holds it, and free once that process is SIGKILLed", async () => {
    const dir = freshDir();
    const holder = spawnLocker(dir);
    expect(await holder.outcome).toBe("locked");
    await expect(acquireDataDirLock(dir)).rejects.toMatchObject({
      code: "failed_precondition",
      message: `another Corral scheduler holds ${join(dir, "corral.lock")} (pid ${holder.child.pid})`,
    });
    holder.child.kill("SIGKILL");
    await exited(holder.child);
    const lock = await acquireDataDirLock(dir);
    await lock.release();
  });
});

describe("acquireSharedDataDirLock (replicas on a ZooKeeper store sharing a data directory)", () => {
  const byReplicas = (dir: string): string =>
    `Corral replicas on a ZooKeeper store share ${dir}; a scheduler with a store of its own needs a data directory of its own (--data-dir)`;
  const byScheduler = (dir: string, pid: number | undefined): string =>
    `a Corral scheduler with a store of its own holds ${join(dir, "corral.lock")} (pid ${pid}); replicas on a ZooKeeper store need a data directory it does not use (--data-dir)`;

  it("lets replicas in beside each other, and refuses the exclusive lock until the last of them lets go", async () => {
    const dir = freshDir();
    const replica = spawnLocker(dir, true);
    expect(await replica.outcome).toBe("locked");
    const mine = await acquireSharedDataDirLock(dir);
    expect(mine.path).toBe(join(dir, "corral.lock"));
    await expect(acquireDataDirLock(dir)).rejects.toMatchObject({ code: "failed_precondition", message: byReplicas(dir) });
    const other = spawnLocker(dir);
    expect(await other.outcome).toBe(`refused failed_precondition ${byReplicas(dir)}`);
    replica.child.kill("SIGKILL");
    await exited(replica.child);
    await expect(acquireDataDirLock(dir)).rejects.toMatchObject({ message: byReplicas(dir) }); // still held here
    await mine.release();
    await mine.release();
    const lock = await acquireDataDirLock(dir);
    await lock.release();
  });

  it("is refused beside a scheduler with a store of its own, naming it, and held once that scheduler is gone", async () => {
    const dir = freshDir();
    const holder = spawnLocker(dir);
    expect(await holder.outcome).toBe("locked");
    await expect(acquireSharedDataDirLock(dir)).rejects.toMatchObject({ code: "failed_precondition", message: byScheduler(dir, holder.child.pid) });
    const replica = spawnLocker(dir, true);
    expect(await replica.outcome).toBe(`refused failed_precondition ${byScheduler(dir, holder.child.pid)}`);
    holder.child.kill("SIGKILL");
    await exited(holder.child);
    const hold = await acquireSharedDataDirLock(dir);
    await hold.release();
  });

  it("waits for a scheduler holding the directory to go when asked to", async () => {
    const dir = freshDir();
    const first = await acquireDataDirLock(dir);
    setTimeout(() => void first.release(), 100);
    const hold = await acquireSharedDataDirLock(dir, { waitMs: 5_000, pollMs: 20 });
    await expect(acquireDataDirLock(dir)).rejects.toMatchObject({ message: byReplicas(dir) });
    await hold.release();
  });
});

describe("the data-directory lock as the SQLite store's write fence", () => {
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
  const text = (v: { data: Uint8Array } | undefined): string | undefined => (v ? new TextDecoder().decode(v.data) : undefined);

  it("stops the writes of a scheduler whose lock file was removed and taken by another process", async () => {
    const dir = freshDir();
    const lock = await acquireDataDirLock(dir);
    const store = SqlitePersister.open(join(dir, "corral.db"), { fence: lock });
    const heard: boolean[] = [];
    const cancel = lock.watch((holds) => heard.push(holds));
    try {
      await store.multi([{ kind: "set", path: "x", data: enc("1") }]);
      expect(lock.holds()).toBe(true);

      rmSync(lock.path);
      const other = spawnLocker(dir);
      expect(await other.outcome).toBe("locked");

      // A lone write and a group commit of two: all refused, nothing lands.
      await expect(store.multi([{ kind: "set", path: "x", data: enc("2") }])).rejects.toMatchObject({
        code: "unavailable",
        message: `the data-directory lock ${lock.path} was replaced (now held by pid ${other.child.pid}): this scheduler no longer holds it and does not write any more (restart it)`,
      });
      const both = [store.multi([{ kind: "set", path: "x", data: enc("3") }]), store.multi([{ kind: "create", path: "y", data: enc("3") }])];
      for (const w of both) await expect(w).rejects.toMatchObject({ code: "unavailable" });
      expect(text(await store.get("x"))).toBe("1");
      expect(await store.get("y")).toBeUndefined();
      expect(lock.holds()).toBe(false);
      expect(heard).toEqual([false]);
      other.child.kill("SIGKILL");
      await exited(other.child);
    } finally {
      cancel();
      await store.close();
      await lock.release();
    }
    expect(heard).toEqual([false]);
  });

  it("tells its watchers when the lock file goes, without a write", async () => {
    const dir = freshDir();
    const lock = await acquireDataDirLock(dir);
    const store = SqlitePersister.open(join(dir, "corral.db"), { fence: lock });
    try {
      const lost = new Promise<boolean>((resolve) => lock.watch(resolve));
      rmSync(lock.path);
      expect(await lost).toBe(false);
      await expect(store.multi([{ kind: "set", path: "x", data: enc("1") }])).rejects.toMatchObject({
        code: "unavailable",
        message: expect.stringContaining(`${lock.path} was removed`),
      });
    } finally {
      await store.close();
      await lock.release();
    }
  });

  it("holds while the lock file stays, and says so when released", async () => {
    const dir = freshDir();
    const lock = await acquireDataDirLock(dir);
    const heard: boolean[] = [];
    lock.watch((holds) => heard.push(holds));
    const store = SqlitePersister.open(join(dir, "corral.db"), { fence: lock });
    await store.multi([{ kind: "set", path: "x", data: enc("1") }]);
    expect(lock.holds()).toBe(true);
    await store.close();
    await lock.release();
    expect(lock.holds()).toBe(false);
    expect(heard).toEqual([false]);
    expect(() => lock.assertHeld()).toThrow(/was released/);
  });
});
