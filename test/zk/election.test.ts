/**
 * Leader election of replicas on a real ZooKeeper server (zk-lock.ts, zk-lock-keeper.ts): each
 * candidate watches only its predecessor, a deposed leader's writes fail on the server, and a
 * frozen server makes the leader step down (the liveness probe), after which exactly one leads.
 */
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { ZkLockKeeper } from "../../src/adapters/persister/zookeeper/zk-lock-keeper.js";
import { ZooKeeperPersister } from "../../src/adapters/persister/zookeeper/zookeeper-persister.js";
import { fourLetterWord } from "./zk-server.js";
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

async function until(what: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await what())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 25));
  }
}

interface Candidate {
  readonly name: string;
  readonly store: ZooKeeperPersister;
  readonly election: ZkLockKeeper;
  /** Every change of holds(), in order. */
  readonly seen: boolean[];
}

/** Counts leaders across candidates at every change: the most seen at once. */
class LeaderCount {
  now = 0;
  most = 0;
  change(holds: boolean): void {
    this.now += holds ? 1 : -1;
    this.most = Math.max(this.most, this.now);
  }
}

let roots = 0;
async function candidate(root: string, name: string, count?: LeaderCount): Promise<Candidate> {
  const relay: { election?: ZkLockKeeper } = {};
  const store = await ZooKeeperPersister.open(`${zk().connect}${root}`, {
    sessionTimeoutMs: 4000,
    onEvent: (e) => relay.election?.onSessionEvent(e),
  });
  cleanup.push(() => store.close());
  const election = ZkLockKeeper.campaign(store, log, { address: `${name}:1` });
  relay.election = election;
  cleanup.push(() => election.release());
  const seen: boolean[] = [];
  election.watch((holds) => {
    seen.push(holds);
    count?.change(holds);
  });
  await election.firstTurn;
  return { name, store, election, seen };
}

const port = (): number => Number(zk().connect.split(":")[1]);
/** `wchs`: "N connections watching M paths". */
async function watchedPaths(): Promise<number> {
  const reply = await fourLetterWord(port(), "wchs");
  const m = /watching (\d+) paths/.exec(reply);
  if (!m) throw new Error(`unexpected wchs reply: ${reply}`);
  return Number(m[1]);
}

describe("leader election", () => {
  it("wakes only the next candidate when the leader's session ends; each waiter watches its own predecessor", async () => {
    const root = `/corral-election-${process.pid}-${++roots}`;
    const a = await candidate(root, "a");
    const b = await candidate(root, "b");
    const c = await candidate(root, "c");
    expect(a.election.holds()).toBe(true);
    expect(b.election.holds()).toBe(false);
    expect(c.election.holds()).toBe(false);
    // b watches a's node and c watches b's: two paths (a herd would be one path, watched twice).
    await until(async () => (await watchedPaths()) === 2);
    expect(await b.election.readLeader()).toBe("a:1");
    expect(await c.election.readLeader()).toBe("a:1");

    await a.store.close(); // the leader's session ends: its node goes
    await until(() => b.election.holds());
    expect(c.election.holds()).toBe(false);
    expect(c.seen).toEqual([]);
    expect(await c.election.readLeader()).toBe("b:1");
    // c now watches b's node alone.
    await until(async () => (await watchedPaths()) === 1);
    expect(c.seen).toEqual([]);
  });

  it("fences a deposed leader: its node deleted, it steps down, and a write naming that node is refused by the server, changing nothing", async () => {
    const root = `/corral-election-${process.pid}-${++roots}`;
    const a = await candidate(root, "a");
    const b = await candidate(root, "b");
    await a.store.multi([{ kind: "set", path: "x", data: enc("a1") }]);
    const node = a.election.lockNode();
    expect(node).toBeDefined();

    // An operator (or a session that ended) removes a's node: a steps down without writing
    // (it watches its own node), joins the line again behind b, and b leads.
    await b.store.zkSession.calls.remove(node!);
    await until(() => !a.election.holds());
    expect(a.seen).toEqual([true, false]);
    await until(() => b.election.holds());

    // A deposed leader that has not noticed yet (its guard still names the old node): the server refuses its multi whole.
    const lost: string[] = [];
    a.store.guardWrites({ lockNode: () => node, lockLost: (n) => lost.push(n) });
    await expect(a.store.multi([{ kind: "set", path: "x", data: enc("a2") }, { kind: "set", path: "y", data: enc("a2") }])).rejects.toMatchObject({
      code: "unavailable",
    });
    expect(lost).toEqual([node]);
    expect(dec((await b.store.get("x"))?.data)).toBe("a1");
    expect(await b.store.get("y")).toBeUndefined();
    await b.store.multi([{ kind: "set", path: "x", data: enc("b1") }]);
    expect(dec((await a.store.get("x"))?.data)).toBe("b1");
    expect(await a.election.readLeader()).toBe("b:1");
  });

  it("steps the leader down while the server is frozen (SIGSTOP); after SIGCONT exactly one leads", async () => {
    const root = `/corral-election-${process.pid}-${++roots}`;
    const count = new LeaderCount();
    const all = [await candidate(root, "a", count), await candidate(root, "b", count), await candidate(root, "c", count)];
    const [a] = all;
    await until(() => a!.election.holds());
    expect(count.now).toBe(1);

    const pid = zk().pid;
    process.kill(pid, "SIGSTOP");
    try {
      // No answer from ZooKeeper: the liveness probe fences the leader well before its session could expire.
      await until(() => !a!.election.holds());
      expect(all.filter((x) => x.election.holds())).toHaveLength(0);
    } finally {
      process.kill(pid, "SIGCONT");
    }
    await until(() => all.some((x) => x.election.holds()));
    // Settled: one leader, the others in line behind it.
    await until(async () => (await a!.store.zkSession.calls.getChildren(`${root}/lock`)).length === 3);
    expect(all.filter((x) => x.election.holds())).toHaveLength(1);
    expect(count.most).toBe(1);
    const leader = all.find((x) => x.election.holds())!;
    // The leader's node is the lowest, and its writes land.
    const line = (await leader.store.zkSession.calls.getChildren(`${root}/lock`)).sort();
    expect(`${root}/lock/${line[0]}`).toBe(leader.election.lockNode());
    await leader.store.multi([{ kind: "set", path: "after-thaw", data: enc(leader.name) }]);
    expect(dec((await leader.store.get("after-thaw"))?.data)).toBe(leader.name);
  });

  it("a leader that steps aside lets the next lead and queues again behind it", async () => {
    const root = `/corral-election-${process.pid}-${++roots}`;
    const a = await candidate(root, "a");
    const b = await candidate(root, "b");
    const first = a.election.lockNode();
    a.election.stepAside("could not start leading", 100);
    expect(a.election.holds()).toBe(false);
    await until(() => b.election.holds());
    expect(b.seen).toEqual([true]);
    // a is back in line (a new node, after b's), and names b as the leader.
    await until(async () => (await b.store.zkSession.calls.getChildren(`${root}/lock`)).length === 2);
    expect(a.election.holds()).toBe(false);
    expect(await a.election.readLeader()).toBe("b:1");
    const line = (await b.store.zkSession.calls.getChildren(`${root}/lock`)).sort().map((n) => `${root}/lock/${n}`);
    expect(line[0]).toBe(b.election.lockNode());
    expect(line).not.toContain(first);
  });
});
