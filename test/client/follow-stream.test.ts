/**
 * followUninstall / followPlans across a change of leader, against replicas (the real
 * AdminServer over stub AdminApis sharing one event log, as replicas share the store): a stream
 * cut mid-way — the leader steps down, or its server goes away — is issued again at the new
 * leader with `after` = the last sequence seen, and the caller sees each event once.
 */
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { createAdminClient } from "../../src/client/index.js";
import type { AdminClient } from "../../src/client/index.js";
import type { PlanEventView, UninstallEventView } from "../../src/engine/admin-api.js";
import { EventLog, planEvent, startReplica, uninstallEvent } from "./replicas.js";
import type { Replica } from "./replicas.js";

const replicas: Replica[] = [];
const clients: AdminClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(replicas.splice(0).map((r) => r.stop()));
});

function client(addresses: string[]): AdminClient {
  const c = createAdminClient({ addresses });
  clients.push(c);
  return c;
}

/** Each sequence once, strictly increasing, none missing: 1..n. */
const oneToN = (n: number): bigint[] => Array.from({ length: n }, (_, i) => BigInt(i + 1));

describe("followUninstall", () => {
  it("resumes at the new leader after the last sequence seen when the leader steps down mid-way; each event once", async () => {
    const log = new EventLog<UninstallEventView>();
    const a = await startReplica({ role: { kind: "leader" }, uninstallEvents: log, uninstallEndsAt: 10n });
    const b = await startReplica({ role: { kind: "standby", leader: a.address }, uninstallEvents: log, uninstallEndsAt: 10n });
    replicas.push(a, b);
    for (let i = 1; i <= 4; i++) log.add(uninstallEvent(i));
    const admin = client([a.address, b.address]);
    const resumes: { after: bigint; code: number | undefined }[] = [];
    const seen: bigint[] = [];
    for await (const { event } of admin.followUninstall({ names: ["hello"] }, { onResume: ({ after, error }) => resumes.push({ after, code: (error as { code?: number } | undefined)?.code }), retryDelayMs: 1 })) {
      seen.push(event!.sequence);
      if (event!.sequence === 4n) {
        // The leader steps down: its watch ends UNAVAILABLE, it now names b; b leads and goes on with the log.
        a.role = { kind: "standby", leader: b.address };
        b.role = { kind: "leader" };
        log.poke();
        for (let i = 5; i <= 10; i++) log.add(uninstallEvent(i, "hello", i === 10 ? "COMPLETED" : "PROGRESS"));
      }
    }
    expect(seen).toEqual(oneToN(10));
    expect(resumes).toEqual([{ after: 4n, code: grpc.status.UNAVAILABLE }]);
    expect(b.calls.filter((c) => c.method === "watchUninstall").map((c) => c.args[1])).toEqual([4n]);
    expect(admin.leader).toBe(b.address);
  });

  it("a stream cut before its first event is issued again from where the caller asked (`after` given)", async () => {
    const log = new EventLog<UninstallEventView>();
    const a = await startReplica({ role: { kind: "starting" }, uninstallEvents: log });
    replicas.push(a);
    for (let i = 1; i <= 6; i++) log.add(uninstallEvent(i));
    const admin = client([a.address]);
    const seen: bigint[] = [];
    let resumes = 0;
    for await (const { event } of admin.followUninstall({ after: 2n }, { retryDelayMs: 1, onResume: () => (a.role = { kind: "leader" }) && resumes++ })) {
      seen.push(event!.sequence);
      if (event!.sequence === 6n) break;
    }
    expect(seen).toEqual([3n, 4n, 5n, 6n]);
    expect(resumes).toBe(1);
    expect(a.calls.map((c) => c.args[1])).toEqual([2n]);
  });

  it("stops resuming once the client is closed, without opening a channel again", async () => {
    const a = await startReplica({ role: { kind: "starting" } });
    replicas.push(a);
    const admin = client([a.address]);
    const consume = async (): Promise<void> => {
      for await (const _ of admin.followUninstall({}, { retryDelayMs: 1, onResume: () => admin.close() })) void _;
    };
    await expect(consume()).rejects.toMatchObject({ code: grpc.status.FAILED_PRECONDITION, details: "the client was closed" });
    expect(a.received).toEqual(["watchUninstall"]);
  });

  it("gives up after reconnectForMs without a scheduler, but a stream that stayed open a while starts a new window", async () => {
    const log = new EventLog<UninstallEventView>();
    const a = await startReplica({ role: { kind: "leader" }, uninstallEvents: log });
    replicas.push(a);
    log.add(uninstallEvent(1));
    const admin = client([a.address]);
    let clock = 0;
    let resumes = 0;
    const seen: bigint[] = [];
    const onResume = (): void => {
      resumes++;
      if (resumes <= 2) a.role = { kind: "leader" }; // back at once
      if (resumes === 3) clock += 5_000; // no scheduler for longer than reconnectForMs
    };
    const consuming = (async () => {
      for await (const { event } of admin.followUninstall({}, { now: () => clock, reconnectForMs: 1_000, retryDelayMs: 1, onResume })) seen.push(event!.sequence);
    })();
    const breakStream = (): void => {
      a.role = { kind: "starting" };
      log.poke();
    };
    await expect.poll(() => seen).toEqual([1n]);
    breakStream(); // at 0 s: the window starts
    await expect.poll(() => a.calls.length).toBe(2); // open again at the leader; no event comes
    clock += 20_000;
    breakStream(); // the stream stayed open 20 s: a new window, not 20 s of failing
    await expect.poll(() => resumes).toBe(2);
    await expect.poll(() => a.calls.length).toBe(3);
    log.add(uninstallEvent(2));
    await expect.poll(() => seen).toEqual([1n, 2n]);
    breakStream(); // and now no scheduler comes back within the window
    await expect(consuming).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    expect(resumes).toBe(3);
    expect(seen).toEqual([1n, 2n]);
  });

  it("does not resume an error it cannot resume from (INVALID_ARGUMENT)", async () => {
    const a = await startReplica({ role: { kind: "leader" } });
    replicas.push(a);
    const admin = client([a.address]);
    const consume = async (): Promise<void> => {
      for await (const _ of admin.followUninstall({ names: ["Not A Name!"] })) void _;
    };
    await expect(consume()).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
  });
});

describe("followPlans", () => {
  it("resumes at another address when the leader's server goes away mid-stream; each event once, in order", async () => {
    const log = new EventLog<PlanEventView>();
    const a = await startReplica({ role: { kind: "leader" }, planEvents: log });
    const b = await startReplica({ role: { kind: "standby", leader: a.address }, planEvents: log });
    replicas.push(b);
    for (let i = 1; i <= 3; i++) log.add(planEvent(i));
    const admin = client([a.address, b.address]);
    const seen: bigint[] = [];
    const abort = new AbortController();
    const consume = async (): Promise<void> => {
      for await (const { event } of admin.followPlans({ names: ["hello"] }, { signal: abort.signal, retryDelayMs: 1 })) {
        seen.push(event!.sequence);
        if (event!.sequence === 3n) {
          // The leader's process goes away (its server stops, cancelling the stream); b takes over.
          b.role = { kind: "leader" };
          await a.stop();
          for (let i = 4; i <= 8; i++) log.add(planEvent(i));
        }
        if (event!.sequence === 8n) abort.abort();
      }
    };
    // Aborting the signal is the one way a followPlans ends: CANCELLED, as any cancelled call.
    await expect(consume()).rejects.toMatchObject({ code: grpc.status.CANCELLED });
    expect(seen).toEqual(oneToN(8));
    expect(b.calls.filter((c) => c.method === "watchPlans").map((c) => c.args[1])).toEqual([3n]);
    expect(admin.leader).toBe(b.address);
  }, 20_000);
});
