import { statSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { tempDir } from "../../../../test/use-temp-dir.js";
import type { LocalAgent } from "./agent.js";
import { call, JSON_HEADERS, raw, startTestAgent, subscribeBody, Subscription } from "./test-kit.js";

const started: LocalAgent[] = [];
const subs: Subscription[] = [];

afterEach(async () => {
  for (const s of subs.splice(0)) s.close();
  for (const a of started.splice(0)) await a.close();
});

async function agent(extra: Parameters<typeof startTestAgent>[1] = {}): Promise<LocalAgent> {
  const a = await startTestAgent(tempDir("agent"), extra);
  started.push(a);
  return a;
}

async function subscribed(a: LocalAgent, body = subscribeBody()): Promise<{ sub: Subscription; frameworkId: string }> {
  const sub = await Subscription.open(a.socketPath, body);
  subs.push(sub);
  const e = await sub.next("subscribed");
  return { sub, frameworkId: e.frameworkId };
}

describe("the scheduler API's status codes (§1.1)", () => {
  it("listens on a socket only its owner may use", async () => {
    const a = await agent();
    expect(statSync(a.socketPath).mode & 0o777).toBe(0o600);
  });

  it("answers 405, 400 and 415 for a wrong method or content type", async () => {
    const a = await agent();
    expect((await raw(a.socketPath, "GET", "/api/v1/scheduler", {})).status).toBe(405);
    expect((await raw(a.socketPath, "POST", "/api/v1/scheduler", {}, "{}")).status).toBe(400);
    const proto = await raw(a.socketPath, "POST", "/api/v1/scheduler", { "Content-Type": "application/x-protobuf" }, "x");
    expect(proto.status).toBe(415);
    expect(proto.body).toMatch(/JSON only/);
  });

  it("answers 400 for bad JSON and calls missing required fields", async () => {
    const a = await agent();
    const post = (body: string) => raw(a.socketPath, "POST", "/api/v1/scheduler", JSON_HEADERS, body);
    expect((await post("{not json")).status).toBe(400);
    expect((await post(JSON.stringify({ framework_id: { value: "x" } }))).body).toMatch(/'type'/);
    expect((await post(JSON.stringify({ type: "ACCEPT", framework_id: { value: "x" } }))).body).toMatch(/Expecting 'accept' to be present/);
    expect((await post(JSON.stringify({ type: "DECLINE", decline: { offer_ids: [] } }))).body).toMatch(/Expecting 'framework_id'/);
    // camelCase is unknown, so the body field counts as missing
    expect((await post(JSON.stringify({ type: "KILL", frameworkId: { value: "x" }, kill: { task_id: { value: "t" } } }))).status).toBe(400);
    const badUuid = { type: "ACKNOWLEDGE", framework_id: { value: "x" }, acknowledge: { agent_id: { value: "a" }, task_id: { value: "t" }, uuid: "AAAA" } };
    const ack = await post(JSON.stringify(badUuid));
    expect(ack.status).toBe(400);
    expect(ack.body).toMatch(/16-byte/);
    const mismatch = subscribeBody("one") as Record<string, unknown>;
    expect((await post(JSON.stringify({ ...mismatch, framework_id: { value: "two" } }))).body).toMatch(/differs/);
  });

  it("answers 406 to a SUBSCRIBE that does not accept JSON, 400 to one with a stream id", async () => {
    const a = await agent();
    const body = JSON.stringify(subscribeBody());
    expect((await raw(a.socketPath, "POST", "/api/v1/scheduler", { "Content-Type": "application/json", Accept: "application/x-protobuf" }, body)).status).toBe(406);
    expect((await raw(a.socketPath, "POST", "/api/v1/scheduler", { ...JSON_HEADERS, "Mesos-Stream-Id": "x" }, body)).status).toBe(400);
  });

  it("answers 400 for an unknown framework, 403 when not subscribed, 400 for a missing or stale stream id, else 202", async () => {
    const a = await agent();
    const { sub, frameworkId } = await subscribed(a);
    const revive = { framework_id: { value: frameworkId }, type: "REVIVE", revive: { roles: [] } };
    const unknown = await call(a.socketPath, sub.streamId, { ...revive, framework_id: { value: "nope" } });
    expect([unknown.status, unknown.body]).toEqual([400, "Framework cannot be found"]);
    expect((await raw(a.socketPath, "POST", "/api/v1/scheduler", JSON_HEADERS, revive)).status).toBe(400);
    expect((await call(a.socketPath, "stale", revive)).status).toBe(400);
    const ok = await call(a.socketPath, sub.streamId, revive);
    expect([ok.status, ok.body]).toEqual([202, ""]);
    sub.close();
    await new Promise((r) => setTimeout(r, 50));
    const gone = await call(a.socketPath, sub.streamId, revive);
    expect([gone.status, gone.body]).toEqual([403, "Framework is not subscribed"]);
  });

  it("asks for basic authentication when it has a credential", async () => {
    const a = await agent({ credential: { principal: "corral", secret: "s3cret" } });
    const none = await raw(a.socketPath, "POST", "/api/v1/scheduler", JSON_HEADERS, subscribeBody());
    expect(none.status).toBe(401);
    expect(none.headers["www-authenticate"]).toMatch(/^Basic/);
    const wrong = await raw(a.socketPath, "POST", "/api/v1", { ...JSON_HEADERS, Authorization: `Basic ${Buffer.from("corral:nope").toString("base64")}` }, { type: "GET_HEALTH" });
    expect(wrong.status).toBe(401);
    const right = await raw(a.socketPath, "POST", "/api/v1", { ...JSON_HEADERS, Authorization: `Basic ${Buffer.from("corral:s3cret").toString("base64")}` }, { type: "GET_HEALTH" });
    expect(right.status).toBe(200);
  });
});

describe("subscriptions (§2)", () => {
  it("streams SUBSCRIBED then a HEARTBEAT at once, with a fresh stream id, then heartbeats", async () => {
    const a = await agent({ heartbeatIntervalS: 0.05 });
    const sub = await Subscription.open(a.socketPath, subscribeBody());
    subs.push(sub);
    expect(sub.status).toBe(200);
    expect(sub.headers["content-type"]).toBe("application/json");
    expect(sub.streamId).toMatch(/^[0-9a-f-]{36}$/);
    const first = await sub.next("subscribed");
    expect(first.frameworkId).toBe(`${a.masterId}-0000`);
    expect(first.heartbeatIntervalS).toBe(0.05);
    expect(first.masterId).toBe(a.masterId);
    expect(sub.events[1]?.kind).toBe("heartbeat");
    await sub.next("heartbeat", () => true, 2);
  });

  it("refuses an invalid FrameworkInfo with ERROR on the stream and closes it", async () => {
    const a = await agent();
    for (const [extra, message] of [
      [{ user: null }, /'user'/],
      [{ capabilities: [] }, /MULTI_ROLE/],
      [{ roles: ["r", "r"] }, /duplicate/],
    ] as const) {
      const sub = await Subscription.open(a.socketPath, subscribeBody(undefined, extra));
      subs.push(sub);
      expect(sub.status).toBe(200);
      const e = await sub.next("error");
      expect(e.message).toMatch(message);
      await sub.closed();
    }
  });

  it("tells the old stream 'Framework failed over' and closes it when the framework subscribes again", async () => {
    const a = await agent();
    const { sub: old, frameworkId } = await subscribed(a);
    await old.next("offers");
    const { sub: fresh } = await subscribed(a, subscribeBody(frameworkId));
    expect((await old.next("error")).message).toBe("Framework failed over");
    await old.closed();
    expect(old.events.some((e) => e.kind === "rescind")).toBe(false);
    await fresh.next("offers");
    const revive = { framework_id: { value: frameworkId }, type: "REVIVE" };
    expect((await call(a.socketPath, old.streamId, revive)).status).toBe(400);
    expect((await call(a.socketPath, fresh.streamId, revive)).status).toBe(202);
  });

  it("removes a torn-down framework: its stream closes and its ID is refused", async () => {
    const a = await agent();
    const { sub, frameworkId } = await subscribed(a);
    expect((await call(a.socketPath, sub.streamId, { framework_id: { value: frameworkId }, type: "TEARDOWN" })).status).toBe(202);
    await sub.closed();
    const again = await Subscription.open(a.socketPath, subscribeBody(frameworkId));
    subs.push(again);
    expect((await again.next("error")).message).toBe("Framework has been removed");
    const next = await subscribed(a);
    expect(next.frameworkId).toBe(`${a.masterId}-0001`);
  });

  it("removes a framework whose scheduler stays away past its failover timeout", async () => {
    const a = await agent();
    const { sub, frameworkId } = await subscribed(a, subscribeBody(undefined, { failover_timeout: 0.05 }));
    sub.close();
    await new Promise((r) => setTimeout(r, 300));
    const again = await Subscription.open(a.socketPath, subscribeBody(frameworkId));
    subs.push(again);
    expect((await again.next("error")).message).toBe("Framework has been removed");
  });

  it("keeps roles suppressed that SUBSCRIBE names, and REVIVE brings the offers", async () => {
    const a = await agent();
    const body = subscribeBody() as { subscribe: { suppressed_roles: string[] } };
    body.subscribe.suppressed_roles = ["test-role"];
    const { sub, frameworkId } = await subscribed(a, body as never);
    await new Promise((r) => setTimeout(r, 50));
    expect(sub.events.some((e) => e.kind === "offers")).toBe(false);
    await call(a.socketPath, sub.streamId, { framework_id: { value: frameworkId }, type: "REVIVE", revive: { roles: ["test-role"] } });
    const offers = await sub.next("offers");
    expect(offers.offers[0]?.allocationRole).toBe("test-role");
  });
});
