/**
 * The real `corral` bin against replicas (in-process: the real AdminServer over stub AdminApis
 * that lead or stand by, sharing one event log as replicas share the store): `--server a,b,c` /
 * CORRAL_SERVER with several addresses finds the leader; `uninstall --watch` and `plan --watch`
 * go on through a change of leader, each event shown once, with one notice on stderr; when no
 * address leads, one error line names them all.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { PlanEventView, PlanView, UninstallEventView } from "../../src/engine/admin-api.js";
import { EventLog, deadAddress, planEvent, startReplica, uninstallEvent } from "../client/replicas.js";
import type { Replica, ReplicaOptions } from "../client/replicas.js";
import { runCli, shown } from "./run-cli.js";

const replicas: Replica[] = [];

afterEach(async () => {
  await Promise.all(replicas.splice(0).map((r) => r.stop()));
});

async function replica(options: ReplicaOptions): Promise<Replica> {
  const r = await startReplica(options);
  replicas.push(r);
  return r;
}

describe("corral with several scheduler addresses", () => {
  it("finds the leader past an address that is down and a standby that names it; nothing on stderr", async () => {
    const leader = await replica({ role: { kind: "leader" } });
    const standby = await replica({ role: { kind: "standby", leader: leader.address } });
    const dead = await deadAddress();
    const r = await runCli(["list"], { server: `${dead},${standby.address}` });
    expect(r.code, shown(r)).toBe(0);
    expect(r.stdout).toContain("hello");
    expect(r.stderr).toBe("");
    expect(standby.received).toEqual(["listServices"]);
    expect(leader.calls.map((c) => c.method)).toEqual(["listServices"]);
    const viaFlag = await runCli(["--server", `${standby.address},${dead}`, "get", "hello"]);
    expect(viaFlag.code, shown(viaFlag)).toBe(0);
    expect(leader.calls.map((c) => c.method)).toEqual(["listServices", "getService"]);
  });

  it("no address leads: exit 4 and one error line naming every address tried", async () => {
    const standby = await replica({ role: { kind: "standby" } });
    const dead = await deadAddress();
    const r = await runCli(["list"], { server: `${dead}, ${standby.address}` });
    expect(r.code, shown(r)).toBe(4);
    expect(r.stdout).toBe("");
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines, shown(r)).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^corral: ListServices: no Corral scheduler leads at ${dead}, ${standby.address} \\(UNAVAILABLE at ${standby.address}: this scheduler is a standby; no leader is known yet\\)`));
  });

  it("uninstall --watch goes on at the new leader when the leader steps down: each event once, one notice on stderr", async () => {
    const log = new EventLog<UninstallEventView>();
    const a = await replica({ role: { kind: "leader" }, uninstallEvents: log, uninstallEndsAt: 8n });
    const b = await replica({ role: { kind: "standby", leader: a.address }, uninstallEvents: log, uninstallEndsAt: 8n });
    for (let i = 1; i <= 3; i++) log.add(uninstallEvent(i));
    let flipped = false;
    const r = await runCli(["uninstall", "hello", "--watch"], {
      server: `${a.address},${b.address}`,
      onStdout: (out) => {
        if (flipped || !out.includes("#3 ")) return;
        flipped = true;
        a.role = { kind: "standby", leader: b.address };
        b.role = { kind: "leader" };
        log.poke();
        for (let i = 4; i <= 8; i++) log.add(uninstallEvent(i, "hello", i === 8 ? "COMPLETED" : "PROGRESS"));
      },
    });
    expect(r.code, shown(r)).toBe(0);
    const sequences = r.stdout.split("\n").flatMap((l) => (/^#(\d+) /.exec(l)?.[1] ?? []) as string[]);
    expect(sequences, shown(r)).toEqual(["1", "2", "3", "4", "5", "6", "7", "8"]);
    expect(r.stdout).toContain("hello: uninstalled");
    expect(r.stderr).toBe(`corral: leader changed; continuing at ${b.address}\n`);
    expect(b.calls.filter((c) => c.method === "watchUninstall").map((c) => c.args[1])).toEqual([3n]);
  });

  it("plan --watch follows the plan to COMPLETE through the leader's server going away", async () => {
    const log = new EventLog<PlanEventView>();
    const STEPS = 6;
    // The plan as the shared store has it: step i is COMPLETE once event i is in the log.
    const plan = (): PlanView => {
      const done = log.events.length;
      return {
        name: "deploy",
        status: done >= STEPS ? "COMPLETE" : "IN_PROGRESS",
        strategy: "serial",
        errors: [],
        phases: [
          {
            id: "p",
            name: "hello",
            status: done >= STEPS ? "COMPLETE" : "IN_PROGRESS",
            strategy: "serial",
            steps: Array.from({ length: STEPS }, (_, i) => ({ id: `s${i + 1}`, name: `hello-${i + 1}`, status: i < done ? "COMPLETE" : "PENDING", message: "", taskIds: [] })),
          },
        ],
      } as PlanView;
    };
    const a = await replica({ role: { kind: "leader" }, planEvents: log, plan });
    const b = await replica({ role: { kind: "standby", leader: a.address }, planEvents: log, plan });
    let step = 0;
    const advance = setInterval(() => {
      if (a.role.kind === "leader" && step < 2) log.add(planEvent(++step));
    }, 50);
    let killed = false;
    try {
      const r = await runCli(["plan", "hello", "--watch", "--interval", "60000"], {
        server: `${a.address},${b.address}`,
        onStdout: (out) => {
          if (killed || !out.includes("hello/hello-2 COMPLETE")) return;
          killed = true;
          // The leader goes away; b takes over and the deployment goes on there.
          b.role = { kind: "leader" };
          void a.stop().then(() => {
            for (let i = 3; i <= STEPS; i++) log.add(planEvent(i));
          });
        },
      });
      expect(r.code, shown(r)).toBe(0);
      const completed = r.stdout.split("\n").filter((l) => / COMPLETE$/.test(l) && l.startsWith("hello/"));
      expect(completed, shown(r)).toEqual(Array.from({ length: STEPS }, (_, i) => `hello/hello-${i + 1} COMPLETE`));
      expect(r.stdout.trimEnd().split("\n").at(-1)).toBe("plan deploy COMPLETE");
      expect(r.stderr).toBe(`corral: leader changed; continuing at ${b.address}\n`);
    } finally {
      clearInterval(advance);
    }
  });
});
