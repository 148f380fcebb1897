/**
 * The Persister contract against a real ZooKeeper server (started here; installed via apt when
 * missing), plus the adapter's own sharp edges: version 0 inside a transaction (upstream #67),
 * call deadlines while the server is frozen, and recovery afterwards.
 */
import zookeeper from "node-zookeeper-client";
import { describe, expect, it } from "vitest";
import { SchedulerError } from "../../src/domain/errors.js";
import { ZooKeeperPersister } from "../../src/adapters/persister/zookeeper/zookeeper-persister.js";
import { pushVersioned, withDeadline } from "../../src/adapters/persister/zookeeper/calls.js";
import type { ZkSessionEvent } from "../../src/adapters/persister/zookeeper/session.js";
import { startZooKeeper } from "../zk/zk-server.js";
import { useZooKeeper } from "../zk/use-zookeeper.js";
import { describePersisterContract } from "./persister-contract.js";

const zk = useZooKeeper();
let counter = 0;
/** A fresh chroot per store, so every test starts from an empty tree. */
const chroot = (label: string): string =>
  `/corral-test/${label.replace(/[^A-Za-z0-9_-]+/g, "_").slice(0, 60)}-${process.pid}-${++counter}`;
const enc = new TextEncoder();

describePersisterContract("ZooKeeperPersister", async () => {
  const name = expect.getState().currentTestName ?? "test";
  return ZooKeeperPersister.open(`${zk().connect}${chroot(name)}`, { sessionTimeoutMs: 4000 });
});

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  const err: unknown = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  return err instanceof SchedulerError ? err.code : err === undefined ? undefined : `non-SchedulerError ${String(err)}`;
}

describe("ZooKeeperPersister on a real server", () => {
  it("keeps version 0 in a transaction (upstream #67): check(p, 0) on a node at version 1 fails", async () => {
    const root = chroot("v0");
    const client = zookeeper.createClient(zk().connect, { sessionTimeout: 4000 });
    client.connect();
    try {
      const call = <T>(what: string, f: (done: (err: unknown, v?: T) => void) => void): Promise<T> =>
        withDeadline(what, 5000, f);
      await call("mkdirp", (done) => client.mkdirp(`${root}/n`, (e) => done(e)));
      await call("setData", (done) => client.setData(`${root}/n`, Buffer.from("v1"), 0, (e) => done(e)));
      const commit = (build: (tx: zookeeper.Transaction) => void): Promise<void> =>
        call("commit", (done) => {
          const tx = client.transaction();
          build(tx);
          tx.commit((e) => done(e));
        });
      // The library as shipped: version 0 silently becomes -1 ("any"), and the check passes.
      await expect(commit((tx) => tx.check(`${root}/n`, 0))).resolves.toBeUndefined();
      // Our fix keeps 0 on the wire: BAD_VERSION, mapped to aborted.
      expect(await codeOf(commit((tx) => pushVersioned(tx, (t) => t.check(`${root}/n`, 0), 0)))).toBe("aborted");
      expect(
        await codeOf(
          commit((tx) => pushVersioned(tx, (t) => t.setData(`${root}/n`, Buffer.from("x"), 0), 0)),
        ),
      ).toBe("aborted");
    } finally {
      client.close();
    }

    // And through the persister: nothing of the multi is applied.
    const store = await ZooKeeperPersister.open(`${zk().connect}${root}`);
    try {
      expect((await store.get("n"))?.version).toBe(1);
      const ops = [
        { kind: "check", path: "n", version: 0 },
        { kind: "set", path: "other", data: enc.encode("x") },
      ] as const;
      expect(await codeOf(store.multi(ops))).toBe("aborted");
      expect(await codeOf(store.multi([{ kind: "set", path: "n", data: enc.encode("x"), version: 0 }]))).toBe(
        "aborted",
      );
      expect(await store.get("other")).toBeUndefined();
      expect(await store.get("n")).toEqual({ data: enc.encode("v1"), version: 1 });
    } finally {
      await store.close();
    }
  });

  it("deletes a subtree deeper than one level in one transaction (upstream #127)", async () => {
    const store = await ZooKeeperPersister.open(`${zk().connect}${chroot("deep")}`);
    try {
      const paths = ["s/a/b/c/d", "s/a/b/e", "s/x", "keep"];
      await store.multi(paths.map((path) => ({ kind: "set", path, data: enc.encode(path) })));
      await store.multi([{ kind: "delete", path: "s" }]);
      for (const gone of ["s", "s/a", "s/a/b/c/d", "s/x"]) expect(await store.get(gone), gone).toBeUndefined();
      expect(await store.children("s")).toEqual([]);
      expect(await store.get("keep")).toBeDefined();
    } finally {
      await store.close();
    }
  });

  it("fails calls within the deadline while the server is down", async () => {
    const own = await startZooKeeper();
    const store = await ZooKeeperPersister.open(`${own.connect}${chroot("down")}`, {
      sessionTimeoutMs: 2000,
      callTimeoutMs: 800,
    });
    try {
      await store.multi([{ kind: "set", path: "n", data: enc.encode("v") }]);
      await own.stop();
      // Each call ends with unavailable instead of hanging (the test's own timeout bounds them).
      expect(await codeOf(store.get("n"))).toBe("unavailable");
      expect(await codeOf(store.children("n"))).toBe("unavailable");
      expect(await codeOf(store.multi([{ kind: "set", path: "n", data: enc.encode("w") }]))).toBe("unavailable");
    } finally {
      await store.close();
      await own.stop();
    }
  }, 30_000);

  it("fails calls within the deadline while the server is frozen, then recovers", async () => {
    const events: ZkSessionEvent[] = [];
    const store = await ZooKeeperPersister.open(`${zk().connect}${chroot("frozen")}`, {
      sessionTimeoutMs: 2000,
      callTimeoutMs: 1000,
      onEvent: (e) => events.push(e),
    });
    try {
      await store.multi([{ kind: "set", path: "n", data: enc.encode("before") }]);
      process.kill(zk().pid, "SIGSTOP");
      try {
        expect(await codeOf(store.get("n"))).toBe("unavailable");
        expect(await codeOf(store.multi([{ kind: "set", path: "n", data: enc.encode("during") }]))).toBe(
          "unavailable",
        );
        // Past the session timeout the probe misses twice and the client is rebuilt.
        while (!events.some((e) => e.kind === "unavailable")) await new Promise((r) => setTimeout(r, 100));
      } finally {
        process.kill(zk().pid, "SIGCONT");
      }
      // Recovers with a new session once the server answers again.
      for (;;) {
        const got = await store.get("n").catch(() => undefined);
        if (got) {
          expect(new TextDecoder().decode(got.data)).toMatch(/before|during/);
          break;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      await store.multi([{ kind: "set", path: "n", data: enc.encode("after") }]);
      expect(new TextDecoder().decode((await store.get("n"))?.data)).toBe("after");
    } finally {
      await store.close();
    }
  }, 30_000);
});
