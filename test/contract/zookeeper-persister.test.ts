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
import { MultiReadRequest, decodeResults } from "../../src/adapters/persister/zookeeper/multi-read.js";
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

  it("routes multiRead replies among pipelined plain calls and watch events on one connection", async () => {
    const store = await ZooKeeperPersister.open(`${zk().connect}${chroot("mixed")}`);
    try {
      const paths = Array.from({ length: 300 }, (_, i) => `m/n${i}`);
      await store.multi(paths.map((path) => ({ kind: "set", path, data: enc.encode(path) })));
      const dec = new TextDecoder();
      // Everything issued in one turn: requests leave together and replies come back interleaved.
      const calls: Promise<void>[] = [];
      for (let round = 0; round < 20; round++) {
        const ask = [...paths.slice(round * 10, round * 10 + 140), `m/missing${round}`];
        calls.push(
          store.getMany(ask).then((got) => {
            expect(got.slice(0, -1).map((v) => v && dec.decode(v.data))).toEqual(ask.slice(0, -1));
            expect(got.at(-1)).toBeUndefined();
          }),
          store.get(paths[round]!).then((v) => expect(v && dec.decode(v.data)).toBe(paths[round])),
          store.children("m").then((c) => expect(c).toHaveLength(300)),
          store.multi([{ kind: "set", path: `w/${round}`, data: enc.encode("x") }]),
        );
      }
      await Promise.all(calls);
      expect((await store.getMany(["w/0", "w/19"])).map((v) => v?.version)).toEqual([0, 0]);
    } finally {
      await store.close();
    }
  });

  it("encodes multiRead as zookeeper.jute frames it and rejects a truncated reply", () => {
    const req = new MultiReadRequest([{ kind: "data", path: "/a" }]);
    req.header.xid = 7;
    // len, xid, type 22 | MultiHeader{4,false,-1} "/a" watch=false | MultiHeader{-1,true,-1}
    expect(req.toBuffer().toString("hex")).toBe(
      "00000021" + "00000007" + "00000016" + "00000004" + "00" + "ffffffff" + "00000002" + "2f61" + "00" + "ffffffff" + "01" + "ffffffff",
    );
    const stat = Buffer.alloc(68);
    stat.writeInt32BE(5, 32); // version
    const ok = Buffer.concat([
      Buffer.from("0000000400ffffffff" + "00000001" + "41", "hex"), stat, // getData: "A" v5
      Buffer.from("ffffffff00ffffff9b" + "ffffff9b", "hex"), // error NO_NODE
      Buffer.from("ffffffff01ffffffff", "hex"), // done
    ]);
    expect(decodeResults(ok, 0, 2)).toEqual([{ data: enc.encode("A"), version: 5 }, { err: -101 }]);
    expect(() => decodeResults(ok.subarray(0, ok.length - 12), 0, 2)).toThrow(/truncated/);
    expect(() => decodeResults(ok, 0, 3)).toThrow(/2 results for 3 ops/);
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
      expect(await codeOf(store.getMany(["n", "m"]))).toBe("unavailable");
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
        expect(await codeOf(store.getMany(["n", "gone"]))).toBe("unavailable");
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
      // multiRead works on the new connection too (no stale half-reply in front of its answers).
      const [n, gone] = await store.getMany(["n", "gone"]);
      expect(n && new TextDecoder().decode(n.data)).toBe("after");
      expect(gone).toBeUndefined();
    } finally {
      await store.close();
    }
  }, 30_000);
});
