/**
 * The typed client against replicas (the real AdminServer over stub AdminApis): calls go to the
 * leader a standby names, pass an address that cannot be reached, end with the last error when
 * standbys name each other, and are sent again only when retry-rule.ts allows.
 */
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { callTrail, createAdminClient } from "../../src/client/index.js";
import type { AdminClient } from "../../src/client/index.js";
import { EventLog, deadAddress, frozenAddress, startReplica, uninstallEvent } from "./replicas.js";
import type { UninstallEventView } from "../../src/engine/admin-api.js";
import type { Replica, Role } from "./replicas.js";

const replicas: Replica[] = [];
const clients: AdminClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(replicas.splice(0).map((r) => r.stop()));
});

async function replica(role: Role): Promise<Replica> {
  const r = await startReplica({ role });
  replicas.push(r);
  return r;
}

function client(options: Parameters<typeof createAdminClient>[0]): AdminClient {
  const c = createAdminClient({ defaultDeadlineMs: 20_000, ...options });
  clients.push(c);
  return c;
}

const codeOf = (err: unknown): number | undefined => (err as { code?: number }).code;

describe("createAdminClient with several addresses", () => {
  it("sends a standby's refused call to the leader its corral-leader trailer names, and starts there next time", async () => {
    const leader = await replica({ kind: "leader" });
    const standby = await replica({ kind: "standby", leader: leader.address });
    const admin = client({ address: standby.address });
    const { services } = await admin.listServices({});
    expect(services.map((s) => s.name)).toEqual(["hello"]);
    expect(standby.received).toEqual(["listServices"]);
    expect(leader.calls.map((c) => c.method)).toEqual(["listServices"]);
    expect(admin.leader).toBe(leader.address);
    await admin.getService({ name: "hello" });
    expect(standby.received).toEqual(["listServices"]);
    expect(leader.calls.map((c) => c.method)).toEqual(["listServices", "getService"]);
  });

  it("accepts `addresses` and a comma-separated `address` alike", async () => {
    const leader = await replica({ kind: "leader" });
    const standby = await replica({ kind: "standby", leader: leader.address });
    const dead = await deadAddress();
    const admin = client({ address: ` ${dead} , ${standby.address}`, addresses: [leader.address] });
    expect(admin.addresses).toEqual([dead, standby.address, leader.address]);
    await admin.getScheduler({});
    expect(admin.leader).toBe(leader.address);
  });

  it("tries the next address when one cannot be reached, even for a call that is never repeated (ControlPod: it was never sent)", async () => {
    const leader = await replica({ kind: "leader" });
    const dead = await deadAddress();
    const admin = client({ addresses: [dead, leader.address] });
    const res = await admin.controlPod({ name: "hello", pod: "hello-0", action: 1 });
    expect(res.pod?.name).toBe("hello-0");
    expect(leader.calls.map((c) => c.method)).toEqual(["controlPod"]);
    expect(admin.leader).toBe(leader.address);
  });

  it("passes an address that accepts connections but never answers (a frozen process) after connectTimeoutMs, within the call's deadline", async () => {
    const leader = await replica({ kind: "leader" });
    const frozen = await frozenAddress();
    try {
      const admin = client({ addresses: [frozen.address, leader.address], connectTimeoutMs: 200, defaultDeadlineMs: 10_000 });
      await admin.controlPod({ name: "hello", pod: "hello-0", action: 1 });
      expect(leader.calls.map((c) => c.method)).toEqual(["controlPod"]);
    } finally {
      await frozen.close();
    }
  });

  it("two standbys naming each other: the call ends with the last UNAVAILABLE after maxHops attempts, naming both addresses", async () => {
    const a = await replica({ kind: "standby" });
    const b = await replica({ kind: "standby", leader: a.address });
    a.role = { kind: "standby", leader: b.address };
    const admin = client({ address: a.address, maxHops: 5 });
    const err = await admin.listServices({}).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(codeOf(err)).toBe(grpc.status.UNAVAILABLE);
    expect(a.received.length + b.received.length).toBe(5);
    expect(callTrail(err)?.tried).toEqual([a.address, b.address]);
    expect(admin.leader).toBeUndefined();
  });

  it("every address down: UNAVAILABLE, the trail names each address tried once", async () => {
    const [one, two] = [await deadAddress(), await deadAddress()];
    const admin = client({ address: `${one},${two}` });
    const err = await admin.getScheduler({}).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(codeOf(err)).toBe(grpc.status.UNAVAILABLE);
    expect(callTrail(err)).toEqual({ address: two, tried: [one, two] });
  });

  it("an UNAVAILABLE answered without a leader moves a read on, but never a call that may have run and must not run twice", async () => {
    const starting = await replica({ kind: "starting" });
    const leader = await replica({ kind: "leader" });
    const admin = client({ addresses: [starting.address, leader.address] });
    await admin.listServices({});
    expect(leader.calls.map((c) => c.method)).toEqual(["listServices"]);

    const other = client({ addresses: [starting.address, leader.address] });
    const err = await other.controlPod({ name: "hello", pod: "hello-0", action: 1 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(codeOf(err)).toBe(grpc.status.UNAVAILABLE);
    expect(starting.received).toEqual(["listServices", "controlPod"]);
    expect(leader.calls.map((c) => c.method)).toEqual(["listServices"]);
  });

  it("PutService (idempotent: the same spec again is UNCHANGED) moves on past a scheduler that answered UNAVAILABLE without a leader", async () => {
    const starting = await replica({ kind: "starting" });
    const leader = await replica({ kind: "leader" });
    const admin = client({ addresses: [starting.address, leader.address] });
    await admin.putService({ name: "hello", spec: "name: hello" });
    expect(leader.calls.map((c) => c.method)).toEqual(["putService"]);
  });

  it("reports a change of leader once a call is answered elsewhere", async () => {
    const a = await replica({ kind: "leader" });
    const b = await replica({ kind: "standby", leader: a.address });
    const changes: string[] = [];
    const admin = client({ addresses: [a.address, b.address], onLeaderChange: (to, from) => changes.push(`${from} -> ${to}`) });
    await admin.listServices({});
    expect(changes).toEqual([]);
    a.role = { kind: "standby", leader: b.address };
    b.role = { kind: "leader" };
    await admin.listServices({});
    expect(changes).toEqual([`${a.address} -> ${b.address}`]);
    expect(admin.leader).toBe(b.address);
  });

  it("opens a stream at the leader when a standby refuses it", async () => {
    const log = new EventLog<UninstallEventView>();
    const leader = await startReplica({ role: { kind: "leader" }, uninstallEvents: log, uninstallEndsAt: 1n });
    replicas.push(leader);
    const standby = await replica({ kind: "standby", leader: leader.address });
    const admin = client({ address: standby.address });
    const seen: bigint[] = [];
    const reading = (async () => {
      for await (const { event } of admin.watchUninstall({ names: ["hello"] })) seen.push(event!.sequence);
    })();
    await expect.poll(() => leader.calls.length).toBe(1);
    log.add(uninstallEvent(1));
    await reading;
    expect(seen).toEqual([1n]);
    expect(standby.received).toEqual(["watchUninstall"]);
    expect(leader.calls.map((c) => c.method)).toEqual(["watchUninstall"]);
    expect(admin.leader).toBe(leader.address);
  });
});
