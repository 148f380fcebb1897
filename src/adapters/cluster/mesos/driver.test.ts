import type { ServerResponse } from "node:http";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { mesosFixture } from "../../../../test/fixtures/mesos/load.js";
import { addressOf, closeDrivers, FRAMEWORK, makeDriver, passBackoff } from "../../../../test/fixtures/mesos/driver-kit.js";
import { REVIVE_RETRY } from "./driver.js";
import { reply, ScriptedMaster, waitFor } from "../../../../test/fixtures/mesos/scripted-master.js";
import { tempDir } from "../../../../test/use-temp-dir.js";
import { SchedulerError } from "../../../domain/errors.js";
import type { Json } from "./json-codec.js";
import { encodeSubscribe } from "./json-codec-calls.js";
import { encodeRecord, splitRandomly } from "./recordio.js";
import { SeededRandom } from "../../fake-clock.js";

const masters: ScriptedMaster[] = [];
async function master(options: Parameters<typeof ScriptedMaster.start>[0] = {}): Promise<ScriptedMaster> {
  const m = await ScriptedMaster.start(options);
  masters.push(m);
  return m;
}

afterEach(async () => {
  await closeDrivers();
  for (const m of masters.splice(0)) await m.close();
});

function body(json: Json): { [key: string]: Json } {
  return json as { [key: string]: Json };
}

describe("MesosDriver subscription", () => {
  it("subscribes over the local agent's Unix socket; every call carries the stream id and the framework id", async () => {
    const m = await master({ socketPath: join(tempDir("mesos-driver"), "agent.sock") });
    const kit = makeDriver(addressOf(m.endpoint));
    await kit.driver.subscribe(FRAMEWORK, kit.events);

    expect(kit.events.subscribedIds).toEqual([m.frameworkId]);
    const sub = m.subscribes[0]!;
    expect(sub.body).toEqual(encodeSubscribe(FRAMEWORK, { user: "svc", suppressedRoles: [] }));
    expect(sub.body["framework_id"]).toBeUndefined();
    expect(sub.headers.host).toBe("localhost");
    expect(sub.headers["content-type"]).toBe("application/json");
    expect(sub.headers["mesos-stream-id"]).toBeUndefined();

    await kit.driver.kill("task-1", "agent-1");
    await kit.driver.reconcile([{ taskId: "task-1", agentId: "agent-1" }]);
    await kit.driver.reconcile([]);
    const calls = m.calls();
    expect(calls.map((c) => c.body["type"])).toEqual(["KILL", "RECONCILE", "RECONCILE"]);
    for (const c of calls) {
      expect(c.headers["mesos-stream-id"]).toBe(m.stream.streamId);
      expect(c.body["framework_id"]).toEqual({ value: m.frameworkId });
    }
    expect(calls[2]!.body["reconcile"]).toEqual({});
    expect(kit.driver.stats).toMatchObject({ subscriptions: 1, callsSent: 3, offersReceived: 0 });
  });

  it("resubscribes after EOF on a new connection with the learned framework id (both places) and the suppressed roles", async () => {
    const m = await master();
    const kit = makeDriver(addressOf(m.endpoint));
    await kit.driver.subscribe(FRAMEWORK, kit.events);
    await kit.driver.suppress();
    expect(m.calls("SUPPRESS")[0]!.body["suppress"]).toEqual({ roles: ["svc-role"] });

    m.dropStreams();
    await waitFor(() => kit.events.disconnects.length === 1, "disconnected");
    // A subscription that was up is tried again at once (failures then back off).
    const delay = await passBackoff(kit, 1);
    expect(delay).toBe(0);
    await waitFor(() => kit.events.subscribedIds.length === 2, "second SUBSCRIBED");

    const again = m.subscribes[1]!;
    expect(again.body["framework_id"]).toEqual({ value: m.frameworkId });
    const subscribe = body(again.body["subscribe"]!);
    expect(body(subscribe["framework_info"]!)["id"]).toEqual({ value: m.frameworkId });
    expect(subscribe["suppressed_roles"]).toEqual(["svc-role"]);
    expect(again.remotePort).not.toBe(m.subscribes[0]!.remotePort);
    expect(kit.driver.stats.lastResubscribeMs).toBe(delay);
    expect(kit.driver.stats.subscriptions).toBe(2);

    // A call after the resubscription carries the new stream id.
    await kit.driver.revive();
    const revive = m.calls("REVIVE")[0]!;
    expect(revive.headers["mesos-stream-id"]).toBe(m.streams[1]!.streamId);
    expect(revive.body["revive"]).toEqual({ roles: ["svc-role"] });
  });

  it("subscribes with the extra roles and suppresses and revives them all, in calls and across resubscription", async () => {
    const m = await master();
    const roles = ["svc-role", "slave_public/svc-role"];
    const kit = makeDriver(addressOf(m.endpoint), { roles: ["slave_public/svc-role"] });
    await kit.driver.subscribe(FRAMEWORK, kit.events);
    expect(body(body(m.subscribes[0]!.body["subscribe"]!)["framework_info"]!)["roles"]).toEqual(roles);
    await kit.driver.suppress();
    expect(m.calls("SUPPRESS")[0]!.body["suppress"]).toEqual({ roles });

    m.dropStreams();
    await waitFor(() => kit.events.disconnects.length === 1, "disconnected");
    await passBackoff(kit, 1);
    await waitFor(() => kit.events.subscribedIds.length === 2, "second SUBSCRIBED");
    const again = body(m.subscribes[1]!.body["subscribe"]!);
    expect(again["suppressed_roles"]).toEqual(roles);
    expect(body(again["framework_info"]!)["roles"]).toEqual(roles);

    await kit.driver.revive();
    expect(m.calls("REVIVE")[0]!.body["revive"]).toEqual({ roles });
    m.dropStreams();
    await waitFor(() => kit.events.disconnects.length === 2, "disconnected again");
    await passBackoff(kit, 1);
    await waitFor(() => kit.events.subscribedIds.length === 3, "third SUBSCRIBED");
    expect(body(m.subscribes[2]!.body["subscribe"]!)["suppressed_roles"]).toEqual([]);
  });

  it("uses the framework id it was given on the first SUBSCRIBE", async () => {
    const m = await master();
    const kit = makeDriver(addressOf(m.endpoint));
    await kit.driver.subscribe({ ...FRAMEWORK, frameworkId: m.frameworkId }, kit.events);
    const sub = m.subscribes[0]!;
    expect(sub.body["framework_id"]).toEqual({ value: m.frameworkId });
    expect(body(body(sub.body["subscribe"]!)["framework_info"]!)["id"]).toEqual({ value: m.frameworkId });
  });

  it("revive and suppress while disconnected only change the next SUBSCRIBE's suppressed_roles", async () => {
    const m = await master();
    const kit = makeDriver(addressOf(m.endpoint));
    await kit.driver.subscribe(FRAMEWORK, kit.events);
    m.subscribeScripts.push(reply(503, "Master has not finished recovery"));
    m.dropStreams();
    await waitFor(() => kit.events.disconnects.length === 1, "disconnected");
    await kit.driver.suppress();
    await passBackoff(kit, 1);
    await passBackoff(kit, 2);
    await waitFor(() => kit.events.subscribedIds.length === 2, "resubscribed");
    expect(body(m.subscribes[2]!.body["subscribe"]!)["suppressed_roles"]).toEqual(["svc-role"]);
    expect(m.calls("SUPPRESS")).toHaveLength(0);
  });

  it("a REVIVE asked for while a SUBSCRIBE carrying the suppressed role is in flight is sent once SUBSCRIBED", async () => {
    // Chaos seed 4245: the engine revived between the resubscription's SUBSCRIBE and its
    // SUBSCRIBED; the SUBSCRIBE had already gone out suppressed, so no offers came for 90 s.
    const m = await master();
    const kit = makeDriver(addressOf(m.endpoint));
    await kit.driver.subscribe(FRAMEWORK, kit.events);
    await kit.driver.suppress();
    let held: ServerResponse | undefined;
    m.subscribeScripts.push((_req, res) => {
      held = res;
      return true;
    });
    m.dropStreams();
    await waitFor(() => kit.events.disconnects.length === 1, "disconnected");
    await passBackoff(kit, 1);
    await waitFor(() => held !== undefined, "the SUBSCRIBE in flight");
    expect(body(m.subscribes[1]!.body["subscribe"]!)["suppressed_roles"]).toEqual(["svc-role"]);

    await kit.driver.revive();
    expect(m.calls("REVIVE")).toHaveLength(0);
    m.acceptSubscribe(held!);
    await waitFor(() => kit.events.subscribedIds.length === 2, "resubscribed");
    await waitFor(() => m.calls("REVIVE").length === 1, "the REVIVE owed");
    const revive = m.calls("REVIVE")[0]!;
    expect(revive.headers["mesos-stream-id"]).toBe(m.streams[1]!.streamId);
    expect(revive.body["revive"]).toEqual({ roles: ["svc-role"] });
    expect(m.calls("SUPPRESS")).toHaveLength(1);
  });

  it("a SUPPRESS asked for while an unsuppressed SUBSCRIBE is in flight is sent once SUBSCRIBED", async () => {
    const m = await master();
    const kit = makeDriver(addressOf(m.endpoint));
    await kit.driver.subscribe(FRAMEWORK, kit.events);
    let held: ServerResponse | undefined;
    m.subscribeScripts.push((_req, res) => {
      held = res;
      return true;
    });
    m.dropStreams();
    await waitFor(() => kit.events.disconnects.length === 1, "disconnected");
    await passBackoff(kit, 1);
    await waitFor(() => held !== undefined, "the SUBSCRIBE in flight");
    expect(body(m.subscribes[1]!.body["subscribe"]!)["suppressed_roles"]).toEqual([]);

    await kit.driver.suppress();
    m.acceptSubscribe(held!);
    await waitFor(() => kit.events.subscribedIds.length === 2, "resubscribed");
    await waitFor(() => m.calls("SUPPRESS").length === 1, "the SUPPRESS owed");
    expect(m.calls("SUPPRESS")[0]!.headers["mesos-stream-id"]).toBe(m.streams[1]!.streamId);
    expect(m.calls("REVIVE")).toHaveLength(0);
  });

  /** A driver that lost its subscription and was then asked to REVIVE (owed to the next SUBSCRIBED). */
  async function reviveWhileDisconnected(): Promise<{ m: ScriptedMaster; kit: ReturnType<typeof makeDriver> }> {
    const m = await master();
    const kit = makeDriver(addressOf(m.endpoint));
    await kit.driver.subscribe(FRAMEWORK, kit.events);
    m.dropStreams();
    await waitFor(() => kit.events.disconnects.length === 1, "disconnected");
    await kit.driver.revive();
    return { m, kit };
  }

  it("a REVIVE asked for while disconnected is sent after the SUBSCRIBED (it clears the offer filters too)", async () => {
    const { m, kit } = await reviveWhileDisconnected();
    await passBackoff(kit, 1);
    await waitFor(() => kit.events.subscribedIds.length === 2, "resubscribed");
    await waitFor(() => m.calls("REVIVE").length === 1, "the REVIVE owed");
    expect(m.calls("REVIVE")[0]!.headers["mesos-stream-id"]).toBe(m.streams[1]!.streamId);
  });

  it("a REVIVE owed at SUBSCRIBED whose call fails is sent again while the subscription stays up, then no more", async () => {
    const { m, kit } = await reviveWhileDisconnected();
    m.callScripts.push(reply(500, "the master is busy"));
    await passBackoff(kit, 1);
    await waitFor(() => kit.events.subscribedIds.length === 2, "resubscribed");
    await waitFor(() => kit.log.messages("warn").includes("REVIVE after SUBSCRIBED failed; sending it again"), "the REVIVE refused");
    expect(m.calls("REVIVE")).toHaveLength(1);
    await kit.clock.advanceAsync(REVIVE_RETRY.initialMs);
    await waitFor(() => m.calls("REVIVE").length === 2, "the REVIVE sent again");
    expect(m.calls("REVIVE")[1]!.headers["mesos-stream-id"]).toBe(m.streams[1]!.streamId);
    expect(kit.events.disconnects).toHaveLength(1); // the same subscription throughout
    await kit.clock.advanceAsync(REVIVE_RETRY.maxMs * 2);
    expect(m.calls("REVIVE")).toHaveLength(2);
  });

  /** A subscribed driver whose REVIVE the master refused, and will refuse `more` times again. */
  async function refusedRevive(more: number): Promise<{ m: ScriptedMaster; kit: ReturnType<typeof makeDriver> }> {
    const m = await master();
    const kit = makeDriver(addressOf(m.endpoint));
    await kit.driver.subscribe(FRAMEWORK, kit.events);
    for (let i = 0; i <= more; i++) m.callScripts.push(reply(500, "busy"));
    await expect(kit.driver.revive()).rejects.toThrow();
    return { m, kit };
  }

  it("a REVIVE that keeps failing is sent again after 1 s, then 2 s, until it goes", async () => {
    const { m, kit } = await refusedRevive(1);
    await kit.clock.advanceAsync(REVIVE_RETRY.initialMs);
    await waitFor(() => kit.log.messages("warn").includes("REVIVE failed again; sending it again"), "the second REVIVE refused");
    expect(m.calls("REVIVE")).toHaveLength(2);
    await kit.clock.advanceAsync(REVIVE_RETRY.initialMs);
    expect(m.calls("REVIVE")).toHaveLength(2);
    await kit.clock.advanceAsync(REVIVE_RETRY.initialMs);
    await waitFor(() => m.calls("REVIVE").length === 3, "the third REVIVE");
    await kit.clock.advanceAsync(REVIVE_RETRY.maxMs * 2);
    expect(m.calls("REVIVE")).toHaveLength(3);
  });

  it("a REVIVE owed is dropped when a SUPPRESS comes before it is sent again", async () => {
    const { m, kit } = await refusedRevive(0);
    await kit.driver.suppress();
    await kit.clock.advanceAsync(REVIVE_RETRY.maxMs * 2);
    expect(m.calls("REVIVE")).toHaveLength(1);
    expect(m.calls("SUPPRESS")).toHaveLength(1);
  });

  it("reads records split across chunks (inside a UTF-8 character too) and records coalesced into one chunk", async () => {
    const m = await master();
    const text = "naïve €uro 😀 — done";
    const update = mesosFixture("event-update-running") as { update: { status: Record<string, Json> } };
    const withText = { ...update, update: { status: { ...update.update.status, message: text } } };
    m.subscribeScripts.push((_req, res) => {
      const stream = m.acceptSubscribe(res, true);
      void (async () => {
        const joined = Buffer.concat([m.subscribed(), mesosFixture("event-heartbeat"), mesosFixture("event-offers-doc")].map((e) => encodeRecord(Buffer.from(JSON.stringify(e)))));
        stream.res.write(joined);
        const rng = new SeededRandom(3);
        const pieces = splitRandomly(encodeRecord(Buffer.from(JSON.stringify(withText))), () => rng.next(), 5);
        for (const p of pieces) {
          await new Promise<void>((r) => stream.res.write(p, () => r()));
          await new Promise((r) => setImmediate(r));
        }
      })();
      return true;
    });
    const kit = makeDriver(addressOf(m.endpoint));
    await kit.driver.subscribe(FRAMEWORK, kit.events);
    await waitFor(() => kit.events.updates.length === 1, "the split UPDATE");
    expect(kit.events.offerBatches.map((b) => b.map((o) => o.id))).toEqual([["MID-O117"]]);
    expect(kit.events.updates[0]!.message).toBe(text);
    expect(kit.events.updates[0]!.uuid).toBe("Xwwqnjt9TB6KZA2bLn8cMw==");
    expect(kit.driver.stats.offersReceived).toBe(1);
  });

  it("acknowledges with the update's uuid exactly as received", async () => {
    const m = await master();
    const kit = makeDriver(addressOf(m.endpoint));
    await kit.driver.subscribe(FRAMEWORK, kit.events);
    m.send(mesosFixture("event-update-running"));
    await waitFor(() => kit.events.updates.length === 1, "UPDATE");
    const s = kit.events.updates[0]!;
    await kit.driver.acknowledge(s.agentId!, s.taskId, s.uuid!);
    expect(m.calls("ACKNOWLEDGE")[0]!.body).toEqual({
      framework_id: { value: m.frameworkId },
      type: "ACKNOWLEDGE",
      acknowledge: { agent_id: { value: "MID-S3" }, task_id: { value: "kafka__broker-0-server__1c9e" }, uuid: "Xwwqnjt9TB6KZA2bLn8cMw==" },
    });
  });

  it("passes offers and rescinds on; offers of an earlier subscription are forgotten (accept/decline of them send nothing)", async () => {
    const m = await master();
    const kit = makeDriver(addressOf(m.endpoint));
    await kit.driver.subscribe(FRAMEWORK, kit.events);
    const doc = mesosFixture("event-offers-doc") as { offers: { offers: { [key: string]: Json }[] } };
    const second = { ...doc.offers.offers[0]!, id: { value: "MID-O118" } };
    m.send({ type: "OFFERS", offers: { offers: [doc.offers.offers[0]!, second] } }, mesosFixture("event-rescind"));
    await waitFor(() => kit.events.rescinds.length === 1, "RESCIND");
    expect(kit.events.offerBatches[0]!.map((o) => o.id)).toEqual(["MID-O117", "MID-O118"]);
    expect(kit.events.rescinds).toEqual(["MID-O117"]);

    m.dropStreams();
    await waitFor(() => kit.events.disconnects.length === 1, "disconnected");
    await passBackoff(kit, 1);
    await waitFor(() => kit.events.subscribedIds.length === 2, "resubscribed");
    await kit.driver.accept(["MID-O117"], []);
    await kit.driver.decline(["MID-O118"], { refuseSeconds: 5 });
    expect(m.calls("ACCEPT")).toHaveLength(0);
    expect(m.calls("DECLINE")).toHaveLength(0);

    // An offer answered twice in one subscription goes to the master, which judges it.
    m.send(mesosFixture("event-offers-doc"));
    await waitFor(() => kit.events.offerBatches.length === 2, "new OFFERS");
    await kit.driver.accept(["MID-O117"], []);
    await kit.driver.accept(["MID-O117"], []);
    expect(m.calls("ACCEPT")).toHaveLength(2);

    // A current offer is answered for real, with the filters.
    m.send(mesosFixture("event-offers-doc"));
    await waitFor(() => kit.events.offerBatches.length === 3, "new OFFERS");
    await kit.driver.decline(["MID-O117"], { refuseSeconds: 30 });
    expect(m.calls("DECLINE")[0]!.body["decline"]).toEqual({ offer_ids: [{ value: "MID-O117" }], filters: { refuse_seconds: 30 } });
    expect(m.calls("DECLINE")[0]!.headers["mesos-stream-id"]).toBe(m.streams[1]!.streamId);
  });

  it("declines an offer that does not decode (by its id) and passes the others on", async () => {
    const m = await master();
    const kit = makeDriver(addressOf(m.endpoint));
    await kit.driver.subscribe(FRAMEWORK, kit.events);
    const good = (mesosFixture("event-offers-doc") as { offers: { offers: Json[] } }).offers.offers[0] as { [key: string]: Json };
    const bad = { ...good, id: { value: "MID-O999" }, hostname: 42 };
    m.send({ type: "OFFERS", offers: { offers: [bad, good] } });
    await waitFor(() => m.calls("DECLINE").length === 1, "the DECLINE of the bad offer");
    expect(m.calls("DECLINE")[0]!.body["decline"]).toEqual({ offer_ids: [{ value: "MID-O999" }] });
    expect(kit.events.offerBatches.map((b) => b.map((o) => o.id))).toEqual([["MID-O117"]]);
    expect(kit.log.messages("warn")).toContain("an offer did not decode; declining it");
  });

  it("keeps reading the stream when an engine handler throws", async () => {
    const m = await master();
    const kit = makeDriver(addressOf(m.endpoint));
    const events = { ...kit.events, rescind: () => { throw new Error("engine bug"); } };
    await kit.driver.subscribe(FRAMEWORK, events);
    m.send(mesosFixture("event-rescind"), mesosFixture("event-update-running"));
    await waitFor(() => kit.events.updates.length === 1, "the UPDATE after the throwing RESCIND handler");
    expect(kit.log.messages("error")).toContain("a cluster event handler threw");
    expect(kit.events.disconnects).toEqual([]);
  });

  it("follows a scheme-less 307 on SUBSCRIBE (socket → TCP leader) and on a call", async () => {
    const leader = await master();
    const other = await master();
    const follower = await master({ socketPath: join(tempDir("mesos-driver"), "agent.sock") });
    follower.subscribeScripts.push(reply(307, "", { Location: `//${leader.hostPort}/api/v1/scheduler` }));
    const kit = makeDriver(addressOf(follower.endpoint));
    await kit.driver.subscribe(FRAMEWORK, kit.events);
    expect(follower.subscribes).toHaveLength(1);
    expect(leader.subscribes).toHaveLength(1);
    expect(leader.subscribes[0]!.body).toEqual(follower.subscribes[0]!.body);

    await kit.driver.kill("t1");
    expect(leader.calls("KILL")).toHaveLength(1);

    leader.callScripts.push(reply(307, "", { Location: `//${other.hostPort}/api/v1/scheduler` }));
    other.callScripts.push(reply(202, ""));
    await kit.driver.kill("t2");
    const moved = other.calls("KILL")[0]!;
    expect(moved.body["kill"]).toEqual({ task_id: { value: "t2" } });
    expect(moved.headers["mesos-stream-id"]).toBe(leader.stream.streamId);
  });

  it("backs off exponentially (with jitter) through 503s, then subscribes", async () => {
    const m = await master();
    for (let i = 0; i < 3; i++) m.subscribeScripts.push(reply(503, "Master has not finished recovery"));
    const kit = makeDriver(addressOf(m.endpoint));
    const subscribed = kit.driver.subscribe(FRAMEWORK, kit.events);
    const delays = [await passBackoff(kit, 1), await passBackoff(kit, 2), await passBackoff(kit, 3)];
    await subscribed;
    expect(m.subscribes).toHaveLength(4);
    expect(delays[0]).toBeGreaterThanOrEqual(100);
    expect(delays[0]).toBeLessThanOrEqual(200);
    expect(delays[1]).toBeGreaterThanOrEqual(200);
    expect(delays[1]).toBeLessThanOrEqual(400);
    expect(delays[2]).toBeGreaterThanOrEqual(400);
    expect(delays[2]).toBeLessThanOrEqual(800);
    expect(kit.log.entries.some((e) => e.level === "info" && JSON.stringify(e.obj).includes("Master has not finished recovery"))).toBe(true);
  });

  it("caps the back-off at maxMs", async () => {
    const m = await master();
    for (let i = 0; i < 6; i++) m.subscribeScripts.push(reply(503, ""));
    const kit = makeDriver(addressOf(m.endpoint), { backoff: { initialMs: 100, maxMs: 500 } });
    const subscribed = kit.driver.subscribe(FRAMEWORK, kit.events);
    const delays: number[] = [];
    for (let i = 1; i <= 6; i++) delays.push(await passBackoff(kit, i));
    await subscribed;
    expect(Math.max(...delays)).toBeLessThanOrEqual(500);
    expect(delays.slice(3).every((d) => d >= 250)).toBe(true);
  });

  it("sends basic auth as the principal; a 401 is logged naming the principal and retried", async () => {
    const m = await master();
    m.subscribeScripts.push(reply(401, "", { "WWW-Authenticate": 'Basic realm="mesos"' }));
    const kit = makeDriver(addressOf(m.endpoint), { credential: { principal: "svc-principal", secret: "s3cr:et" } });
    const subscribed = kit.driver.subscribe(FRAMEWORK, kit.events);
    await passBackoff(kit, 1);
    await subscribed;
    const expected = `Basic ${Buffer.from("svc-principal:s3cr:et").toString("base64")}`;
    expect(m.subscribes.map((s) => s.headers.authorization)).toEqual([expected, expected]);
    const err = kit.log.messages("error").find((msg) => msg.includes("401"));
    expect(err).toContain('"svc-principal"');
    await kit.driver.kill("t");
    expect(m.calls("KILL")[0]!.headers.authorization).toBe(expected);
  });

  it("without a credential sends no Authorization; a 401 keeps it retrying, and close() rejects the pending subscribe", async () => {
    const m = await master();
    for (let i = 0; i < 2; i++) m.subscribeScripts.push(reply(401, ""));
    const kit = makeDriver(addressOf(m.endpoint));
    const subscribed = kit.driver.subscribe(FRAMEWORK, kit.events);
    await passBackoff(kit, 1);
    await passBackoff(kit, 2, false);
    expect(m.subscribes.map((s) => s.headers.authorization)).toEqual([undefined, undefined]);
    expect(kit.log.messages("error").filter((msg) => msg.includes("401"))).toHaveLength(2);
    await kit.driver.close();
    await expect(subscribed).rejects.toMatchObject({ code: "unavailable" });
  });

  it("takes a stream silent for 5 heartbeat intervals for dead, aborts it and resubscribes on a new connection", async () => {
    const m = await master();
    m.heartbeatS = 1;
    const kit = makeDriver(addressOf(m.endpoint));
    await kit.driver.subscribe(FRAMEWORK, kit.events);
    await kit.clock.advanceAsync(4_900);
    m.send(mesosFixture("event-heartbeat"));
    // The watchdog is re-armed by the record: 5 s from now.
    await waitFor(() => kit.clock.nextDueMs() === kit.clock.now() + 5_000, "the watchdog re-armed");
    await kit.clock.advanceAsync(4_900);
    expect(kit.events.disconnects).toEqual([]);
    await kit.clock.advanceAsync(100);
    expect(kit.events.disconnects).toEqual(["no event from the master for 5000 ms"]);
    await waitFor(() => m.streams[0]!.closed, "the dead stream aborted");
    await passBackoff(kit, 1);
    await waitFor(() => kit.events.subscribedIds.length === 2, "resubscribed");
    expect(m.subscribes[1]!.remotePort).not.toBe(m.subscribes[0]!.remotePort);
  });

  it("drops a stream whose first event is not SUBSCRIBED and subscribes again", async () => {
    const m = await master();
    m.subscribeScripts.push((_req, res) => {
      const s = m.acceptSubscribe(res, true);
      s.res.write(encodeRecord(Buffer.from(JSON.stringify(mesosFixture("event-heartbeat")))));
      return true;
    });
    const kit = makeDriver(addressOf(m.endpoint));
    const subscribed = kit.driver.subscribe(FRAMEWORK, kit.events);
    await waitFor(() => m.streams[0]?.closed === true, "the first stream dropped");
    await passBackoff(kit, 1);
    await subscribed;
    expect(m.subscribes).toHaveLength(2);
    expect(kit.log.messages("warn")).toContain("the SUBSCRIBE stream ended before SUBSCRIBED");
  });

  it("rejects the first subscribe with failed_precondition when the framework was removed, and stops", async () => {
    const m = await master();
    m.subscribeScripts.push((_req, res) => {
      const s = m.acceptSubscribe(res, true);
      s.res.write(encodeRecord(Buffer.from(JSON.stringify(mesosFixture("event-error-removed")))));
      s.res.end();
      return true;
    });
    const kit = makeDriver(addressOf(m.endpoint));
    const err = await kit.driver.subscribe({ ...FRAMEWORK, frameworkId: "old-fw" }, kit.events).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchedulerError);
    expect(err).toMatchObject({ code: "failed_precondition" });
    expect((err as Error).message).toContain("Framework has been removed");
    expect((err as Error).message).toContain("old-fw");
    await kit.clock.advanceAsync(60_000);
    expect(m.subscribes).toHaveLength(1);
    expect(kit.events.fatals).toEqual([]);
    await expect(kit.driver.kill("t")).rejects.toMatchObject({ code: "unavailable" });
  });

  it("calls events.fatal on 'Framework failed over' and does not resubscribe", async () => {
    const m = await master();
    const kit = makeDriver(addressOf(m.endpoint));
    await kit.driver.subscribe(FRAMEWORK, kit.events);
    m.send({ type: "ERROR", error: { message: "Framework failed over" } });
    await waitFor(() => kit.events.fatals.length === 1, "fatal");
    expect(kit.events.fatals[0]).toContain("Framework failed over");
    expect(kit.events.disconnects).toEqual([]);
    await waitFor(() => m.stream.closed, "stream closed");
    await kit.clock.advanceAsync(60_000);
    expect(m.subscribes).toHaveLength(1);
  });

  it("resubscribes after any other ERROR", async () => {
    const m = await master();
    const kit = makeDriver(addressOf(m.endpoint));
    await kit.driver.subscribe(FRAMEWORK, kit.events);
    m.send({ type: "ERROR", error: { message: "Framework is not authorized to use roles" } });
    await waitFor(() => kit.events.disconnects.length === 1, "disconnected");
    expect(kit.events.disconnects[0]).toMatch(/^ERROR event: /);
    await passBackoff(kit, 1);
    await waitFor(() => kit.events.subscribedIds.length === 2, "resubscribed");
    expect(kit.events.fatals).toEqual([]);
  });

  it("teardown sends TEARDOWN, closes the stream and does not resubscribe", async () => {
    const m = await master();
    const kit = makeDriver(addressOf(m.endpoint));
    await kit.driver.subscribe(FRAMEWORK, kit.events);
    await kit.driver.teardown();
    expect(m.calls("TEARDOWN")[0]!.body).toEqual({ framework_id: { value: m.frameworkId }, type: "TEARDOWN" });
    await waitFor(() => m.stream.closed, "stream closed");
    await kit.clock.advanceAsync(60_000);
    expect(m.subscribes).toHaveLength(1);
    expect(kit.events.disconnects).toEqual([]);
  });
});

describe("MesosDriver call errors", () => {
  it.each([
    [400, "invalid_argument", "Failed to validate scheduler::Call: Expecting 'accept' to be present"],
    [403, "failed_precondition", "Framework is not subscribed"],
    [503, "unavailable", "Master has not finished recovery"],
    [401, "unauthenticated", ""],
  ])("%i → %s with the master's text", async (status, code, text) => {
    const m = await master();
    const kit = makeDriver(addressOf(m.endpoint));
    await kit.driver.subscribe(FRAMEWORK, kit.events);
    m.callScripts.push(reply(status, text));
    const err = await kit.driver.kill("t").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchedulerError);
    expect(err).toMatchObject({ code });
    expect((err as Error).message).toContain(`answered ${status}`);
    expect((err as Error).message).toContain(text);
  });

  it("a call with no answer within requestTimeoutMs fails unavailable", async () => {
    const m = await master();
    const kit = makeDriver(addressOf(m.endpoint), { requestTimeoutMs: 1_000 });
    await kit.driver.subscribe(FRAMEWORK, kit.events);
    m.callScripts.push(() => true); // never answers
    const pending = kit.driver.kill("t").catch((e: unknown) => e);
    await waitFor(() => m.calls("KILL").length === 1, "KILL arrived");
    await kit.clock.advanceAsync(1_000);
    expect(await pending).toMatchObject({ code: "unavailable" });
  });

  it("calls before the first SUBSCRIBED are unavailable", async () => {
    const m = await master();
    m.subscribeScripts.push(reply(503, ""));
    const kit = makeDriver(addressOf(m.endpoint));
    void kit.driver.subscribe(FRAMEWORK, kit.events).catch(() => undefined);
    await expect(kit.driver.kill("t")).rejects.toMatchObject({ code: "unavailable" });
    await expect(kit.driver.teardown()).rejects.toMatchObject({ code: "unavailable" });
    await expect(kit.driver.accept(["o"], [])).rejects.toMatchObject({ code: "unavailable" });
    expect(m.calls()).toHaveLength(0);
  });

  it("close() aborts a SUBSCRIBE that has no answer yet", async () => {
    const m = await master();
    m.subscribeScripts.push(() => true); // never answers
    const kit = makeDriver(addressOf(m.endpoint));
    const subscribed = kit.driver.subscribe(FRAMEWORK, kit.events);
    await waitFor(() => m.subscribes.length === 1, "SUBSCRIBE arrived");
    const socketClosed = new Promise<void>((resolve) => m.lastRequestSocket!.once("close", () => resolve()));
    await kit.driver.close();
    await expect(subscribed).rejects.toMatchObject({ code: "unavailable" });
    await socketClosed;
  });

  it("calls before subscribe() are failed_precondition", async () => {
    const m = await master();
    const kit = makeDriver(addressOf(m.endpoint));
    await expect(kit.driver.decline(["o"])).rejects.toMatchObject({ code: "failed_precondition" });
    await expect(kit.driver.suppress()).rejects.toMatchObject({ code: "failed_precondition" });
  });
});
