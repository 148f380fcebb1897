/**
 * The write fence on a real ZooKeeper server: a scheduler whose session expired while another
 * scheduler took the lock cannot write any more — neither a write it sent before it knew nor one
 * it sends afterwards — and its fence reports each change. The partition is a TCP proxy that
 * stops forwarding (tcp-proxy.ts): the deposed client sees no error until the proxy thaws.
 */
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { acquireZkLock } from "../../src/adapters/persister/zookeeper/zk-lock.js";
import { ZkLockKeeper } from "../../src/adapters/persister/zookeeper/zk-lock-keeper.js";
import { ZooKeeperPersister } from "../../src/adapters/persister/zookeeper/zookeeper-persister.js";
import type { ZkWriteGuard } from "../../src/adapters/persister/zookeeper/zookeeper-persister.js";
import type { ZkSessionEvent } from "../../src/adapters/persister/zookeeper/session.js";
import { startTcpProxy } from "./tcp-proxy.js";
import type { TcpProxy } from "./tcp-proxy.js";
import { useZooKeeper } from "./use-zookeeper.js";

const zk = useZooKeeper();
const log = pino({ level: "silent" });
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined): string | undefined => (b ? new TextDecoder().decode(b) : undefined);

let cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
  cleanup = [];
});

async function until(what: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await what())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
}

let roots = 0;
/** A scheduler's store behind its own proxy (sessions of 2 s, no liveness probe in the test's time). */
async function deposable(root: string, onEvent?: (event: ZkSessionEvent) => void): Promise<{ store: ZooKeeperPersister; proxy: TcpProxy }> {
  const proxy = await startTcpProxy(zk().connect);
  cleanup.push(() => proxy.close());
  const store = await ZooKeeperPersister.open(`${proxy.connect}${root}`, {
    sessionTimeoutMs: 2000,
    probeIntervalMs: 120_000,
    ...(onEvent ? { onEvent } : {}),
  });
  cleanup.push(() => store.close());
  return { store, proxy };
}

async function direct(root: string): Promise<ZooKeeperPersister> {
  const store = await ZooKeeperPersister.open(`${zk().connect}${root}`, { sessionTimeoutMs: 4000 });
  cleanup.push(() => store.close());
  return store;
}

describe("the ZooKeeper write fence", () => {
  it("fails the late writes of a scheduler whose session expired while another took the lock", async () => {
    const root = `/corral-fence-${process.pid}-${++roots}`;
    const relay: { keeper?: ZkLockKeeper } = {};
    const { store: a, proxy } = await deposable(root, (e) => relay.keeper?.onSessionEvent(e));
    const keeperA = await ZkLockKeeper.acquire(a, log);
    relay.keeper = keeperA;
    cleanup.push(() => keeperA.release());
    const seen: boolean[] = [];
    keeperA.watch((holds) => seen.push(holds));
    await a.multi([{ kind: "set", path: "x", data: enc("a1") }]);

    const b = await direct(root);
    const keeperB = ZkLockKeeper.acquire(b, log, { waitMs: 30_000, pollMs: 50 });
    cleanup.push(async () => (await keeperB).release());

    proxy.freeze();
    // A does not know yet: its write goes out (into the partition).
    expect(keeperA.holds()).toBe(true);
    const late = a.multi([{ kind: "set", path: "x", data: enc("a2") }]);
    late.catch(() => undefined);
    // A's session expires on the server; B gets the lock and writes.
    const heldByB = await keeperB;
    expect(heldByB.holds()).toBe(true);
    await b.multi([{ kind: "set", path: "x", data: enc("b1") }]);

    proxy.thaw();
    await expect(late).rejects.toMatchObject({ code: "unavailable" });
    await until(() => !keeperA.holds());
    expect(seen).toEqual([false]);
    // Writes after A learned of it are refused before they leave.
    await expect(a.multi([{ kind: "set", path: "x", data: enc("a3") }])).rejects.toMatchObject({
      code: "unavailable",
      message: expect.stringContaining("does not hold its ZooKeeper lock"),
    });
    expect(dec((await b.get("x"))?.data)).toBe("b1");

    // Once B goes, A is back in line, holds the lock again and says so.
    await heldByB.release();
    await until(() => keeperA.holds());
    expect(seen).toEqual([false, true]);
    await a.multi([{ kind: "set", path: "x", data: enc("a4") }]);
    expect(dec((await b.get("x"))?.data)).toBe("a4");
  }, 60_000);

  it("checks the lock node on the server: a write sent in a new session after the old one expired fails", async () => {
    const root = `/corral-fence-${process.pid}-${++roots}`;
    const { store: a, proxy } = await deposable(root);
    const lock = await acquireZkLock(a);
    // A guard that still believes in the old node: only the server can tell.
    const lost: string[] = [];
    const guard: ZkWriteGuard = { lockNode: () => lock.node, lockLost: (node) => lost.push(node) };
    a.guardWrites(guard);
    await a.multi([{ kind: "set", path: "x", data: enc("a1") }]);

    const b = await direct(root);
    proxy.freeze();
    // The session expires: its ephemeral lock node goes, and B takes the lock.
    const heldByB = await acquireZkLock(b, { waitMs: 30_000, pollMs: 50 });
    cleanup.push(() => heldByB.release());
    await b.multi([{ kind: "set", path: "x", data: enc("b1") }]);
    proxy.thaw();
    // A's client learns its session expired and starts a new one.
    await until(async () => a.zkSession.isConnected && (await a.zkSession.calls.exists(lock.node)) === null);

    await expect(a.multi([{ kind: "set", path: "x", data: enc("a2") }, { kind: "set", path: "y", data: enc("a2") }])).rejects.toMatchObject({
      code: "unavailable",
      message: expect.stringContaining(`lock node ${lock.node} is gone`),
    });
    expect(lost).toEqual([lock.node]);
    expect(dec((await b.get("x"))?.data)).toBe("b1");
    expect(await b.get("y")).toBeUndefined();
  }, 60_000);

  it("gets back in line when its lock node is deleted under a live session, and says so both ways", async () => {
    const root = `/corral-fence-${process.pid}-${++roots}`;
    const a = await direct(root);
    const keeper = await ZkLockKeeper.acquire(a, log, { pollMs: 50 });
    cleanup.push(() => keeper.release());
    const seen: boolean[] = [];
    keeper.watch((holds) => seen.push(holds));
    const node = keeper.lockNode()!;
    // An operator (or a bug elsewhere) removes our node: nothing tells the session.
    const other = await direct(root);
    await other.zkSession.calls.remove(node);

    await expect(a.multi([{ kind: "set", path: "x", data: enc("1") }])).rejects.toMatchObject({
      code: "unavailable",
      message: expect.stringContaining(`lock node ${node} is gone`),
    });
    expect(await other.get("x")).toBeUndefined();
    // Alone in line, it holds the lock again with a new node.
    await until(() => keeper.holds());
    expect(seen).toEqual([false, true]);
    expect(keeper.lockNode()).not.toBe(node);
    await a.multi([{ kind: "set", path: "x", data: enc("2") }]);
    expect(dec((await other.get("x"))?.data)).toBe("2");
  }, 30_000);

  it("reports a failing op of the caller as its own, and refuses writes once the lock is released", async () => {
    const root = `/corral-fence-${process.pid}-${++roots}`;
    const a = await direct(root);
    const keeper = await ZkLockKeeper.acquire(a, log);
    cleanup.push(() => keeper.release());
    await a.multi([{ kind: "create", path: "p/q", data: enc("1") }]);
    // A failing op of the caller is still reported as its own (not as the lock check).
    await expect(a.multi([{ kind: "create", path: "p/q", data: enc("2") }])).rejects.toMatchObject({ code: "already_exists" });
    await expect(a.multi([{ kind: "set", path: "p/q", data: enc("2"), version: 7 }])).rejects.toMatchObject({ code: "aborted" });
    expect(keeper.holds()).toBe(true);
    await keeper.release();
    expect(keeper.holds()).toBe(false);
    await expect(a.multi([{ kind: "set", path: "p/q", data: enc("3") }])).rejects.toMatchObject({ code: "unavailable" });
    expect(dec((await a.get("p/q"))?.data)).toBe("1");
  }, 30_000);
});
