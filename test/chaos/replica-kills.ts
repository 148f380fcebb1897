/**
 * What the replicated chaos run kills (replicated.ts), one kind per iteration:
 *
 *   leader        the leader, kill -9
 *   leader-twice  the leader, then during the failover either the replica that just logged
 *                 "leading" (still recovering) or a standby before any leads
 *   standby       a standby, kill -9
 *   agent         the local agent daemon, kill -9 (the leader's driver starts it again)
 *   zk-freeze     the ZooKeeper server SIGSTOPped for about a session timeout, then SIGCONT
 *   zk-restart    the ZooKeeper server kill -9, started again on the same data dir and port
 *
 * Every random choice is drawn beforehand (KillPlan), so a seed replays the same kills.
 */
import { readAgentInfo } from "../../src/adapters/cluster/agent/agent-info.js";
import { isAlive } from "../processes.js";
import { startZooKeeper } from "../zk/zk-server.js";
import type { ZooKeeperServer } from "../zk/zk-server.js";
import type { Replica } from "./replica.js";
import type { ReplicaSet } from "./replica-set.js";

export type ReplicaKill = "leader" | "leader-twice" | "standby" | "agent" | "zk-freeze" | "zk-restart";
export const REPLICA_KILLS: readonly ReplicaKill[] = ["leader", "leader-twice", "standby", "agent", "zk-freeze", "zk-restart"];

export interface KillPlan {
  readonly kind: ReplicaKill;
  /** leader-twice: kill the new leader at its "leading" line, or a standby before any leads. */
  readonly second: "at-leading" | "standby-before";
  /** leader-twice / standby-before: how long after the leader's kill. */
  readonly secondAfterMs: number;
  /** Which standby (a fraction of the list). */
  readonly pick: number;
  readonly freezeMs: number;
  /** zk-restart: down this long before the start (which takes its own time). */
  readonly zkDownMs: number;
}

export function drawKill(rand: () => number, kind: ReplicaKill, sessionTimeoutS: number): KillPlan {
  return {
    kind,
    second: rand() < 0.5 ? "at-leading" : "standby-before",
    secondAfterMs: Math.floor(rand() * sessionTimeoutS * 500),
    pick: rand(),
    freezeMs: Math.floor((0.5 + rand()) * sessionTimeoutS * 1000),
    zkDownMs: Math.floor(rand() * 2000),
  };
}

/** The ZooKeeper server of the run, which a zk-restart replaces. */
export interface ZooKeeperSlot {
  server: ZooKeeperServer | undefined;
  readonly dir: string;
  readonly port: number;
}

export interface KillContext {
  readonly set: ReplicaSet;
  readonly zk: ZooKeeperSlot;
  readonly agentDir: string;
  readonly sessionTimeoutS: number;
  readonly violate: (what: string) => void;
}

export interface KillOutcome {
  /** performance.now() of each kill done. */
  readonly killedAt: readonly number[];
  /** The leader killed first (leader kinds). */
  readonly killedLeader: Replica | undefined;
  /** performance.now() of the last kill of a leader (failover is timed from it). */
  readonly leaderKilledAt: number | undefined;
  /** ZooKeeper kinds: when the server was back (SIGCONT, or restarted and serving). */
  readonly zkBackAt: number | undefined;
  /** For the iteration's line. */
  readonly detail: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function applyKill(plan: KillPlan, ctx: KillContext): Promise<KillOutcome> {
  const { set } = ctx;
  const killedAt: number[] = [];
  const standby = (): Replica | undefined => {
    const standbys = set.slots.filter((r) => r.alive() && !r.leading());
    return standbys[Math.floor(plan.pick * standbys.length)];
  };
  const killReplica = async (r: Replica): Promise<void> => {
    await set.kill(r);
    killedAt.push(performance.now());
  };
  switch (plan.kind) {
    case "leader":
    case "leader-twice": {
      const at = set.leaderSlot();
      if (at < 0) {
        ctx.violate("no replica leads before the kill");
        return { killedAt, killedLeader: undefined, leaderKilledAt: undefined, zkBackAt: undefined, detail: "" };
      }
      const leader = set.slots[at]!;
      await killReplica(leader);
      let leaderKilledAt = killedAt[0]!;
      let detail = ` leader=${leader.name}`;
      if (plan.kind === "leader-twice" && plan.second === "at-leading") {
        const next = await set.untilLeader(ctx.sessionTimeoutS * 1000 + 30_000, leader);
        if (next >= 0) {
          const victim = set.slots[next]!;
          await killReplica(victim);
          leaderKilledAt = killedAt.at(-1)!;
          detail += ` then new leader ${victim.name} at "leading"`;
        }
      } else if (plan.kind === "leader-twice") {
        await sleep(plan.secondAfterMs);
        const victim = standby();
        if (victim && set.leaderSlot() < 0) {
          await killReplica(victim);
          detail += ` then standby ${victim.name} before any led`;
        }
      }
      return { killedAt, killedLeader: leader, leaderKilledAt, zkBackAt: undefined, detail };
    }
    case "standby": {
      const victim = standby();
      if (victim) await killReplica(victim);
      return { killedAt, killedLeader: undefined, leaderKilledAt: undefined, zkBackAt: undefined, detail: victim ? ` standby=${victim.name}` : "" };
    }
    case "agent":
      return { killedAt, killedLeader: undefined, leaderKilledAt: undefined, zkBackAt: undefined, detail: await killAgent(ctx, killedAt) };
    case "zk-freeze": {
      const pid = ctx.zk.server!.pid;
      process.kill(pid, "SIGSTOP");
      killedAt.push(performance.now());
      await sleep(plan.freezeMs);
      process.kill(pid, "SIGCONT");
      return { killedAt, killedLeader: undefined, leaderKilledAt: undefined, zkBackAt: performance.now(), detail: ` frozen=${plan.freezeMs}ms` };
    }
    case "zk-restart": {
      const old = ctx.zk.server!;
      ctx.zk.server = undefined;
      process.kill(old.pid, "SIGKILL");
      while (isAlive(old.pid)) await sleep(20); // not `exited`: the server's child is unref'd
      killedAt.push(performance.now());
      await sleep(plan.zkDownMs);
      ctx.zk.server = await startZooKeeper({ dir: ctx.zk.dir, port: ctx.zk.port, readyTimeoutMs: 60_000 });
      const back = performance.now();
      return { killedAt, killedLeader: undefined, leaderKilledAt: undefined, zkBackAt: back, detail: ` down=${(back - killedAt[0]!).toFixed(0)}ms` };
    }
  }
}

/** kill -9 of the local agent; waits until the leader's driver has started it again (convergence is timed from there). */
async function killAgent(ctx: KillContext, killedAt: number[]): Promise<string> {
  const pid = readAgentInfo(ctx.agentDir)?.pid;
  if (pid === undefined) return " (no agent running)";
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // gone already
  }
  while (isAlive(pid)) await sleep(20);
  killedAt.push(performance.now());
  const back = (): boolean => {
    const again = readAgentInfo(ctx.agentDir)?.pid;
    return again !== undefined && again !== pid && isAlive(again);
  };
  const by = performance.now() + 60_000;
  while (!back() && performance.now() < by) await sleep(50);
  if (!back()) {
    ctx.violate("the local agent was not started again within 60 s of its kill");
    return "";
  }
  return ` agent back after ${(performance.now() - killedAt.at(-1)!).toFixed(0)}ms`;
}
