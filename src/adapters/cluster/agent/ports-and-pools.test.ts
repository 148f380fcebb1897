import { createSocket, type Socket } from "node:dgram";
import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { Reservation, Resource } from "../../../domain/cluster.js";
import { tempDir } from "../../../../test/use-temp-dir.js";
import { encodeAccept } from "../mesos/json-codec-calls.js";
import type { Json } from "../mesos/json-codec.js";
import type { LocalAgent } from "./agent.js";
import { call, startTestAgent, subscribeBody, Subscription, TEST_MACHINE } from "./test-kit.js";

const running: LocalAgent[] = [];
const subs: Subscription[] = [];
const servers: (Server | Socket)[] = [];

afterEach(async () => {
  for (const s of subs.splice(0)) s.close();
  for (const s of servers.splice(0)) s.close();
  for (const a of running.splice(0)) await a.close();
});

async function start(extra: Parameters<typeof startTestAgent>[1] = {}): Promise<LocalAgent> {
  const a = await startTestAgent(tempDir("agent-ports"), extra);
  running.push(a);
  return a;
}

/** A TCP listener on the first port of `from…to` that is free. */
async function listenIn(from: number, to: number): Promise<number> {
  for (let port = from; port <= to; port++) {
    const server = createServer();
    const ok = await new Promise<boolean>((done) => {
      server.once("error", () => done(false));
      server.listen(port, "127.0.0.1", () => done(true));
    });
    if (ok) {
      servers.push(server);
      return port;
    }
  }
  throw new Error(`no free port in ${from}-${to}`);
}

async function bindUdpIn(from: number, to: number): Promise<number> {
  for (let port = from; port <= to; port++) {
    const socket = createSocket("udp4");
    const ok = await new Promise<boolean>((done) => {
      socket.once("error", () => done(false));
      socket.bind(port, "127.0.0.1", () => done(true));
    });
    if (ok) {
      servers.push(socket);
      return port;
    }
  }
  throw new Error(`no free udp port in ${from}-${to}`);
}

const inRanges = (port: number, r: Resource | undefined): boolean => (r?.ranges ?? []).some((x) => x.begin <= port && port <= x.end);

describe("the local agent's ports and pre-reserved pools", () => {
  it("does not offer a port another program listens on (TCP) or has bound (UDP)", async () => {
    const tcp = await listenIn(31040, 31060);
    const udp = await bindUdpIn(31061, 31080);
    const a = await start();
    const sub = await Subscription.open(a.socketPath, subscribeBody());
    subs.push(sub);
    const offer = (await sub.next("offers")).offers[0]!;
    const ports = offer.resources.find((r) => r.name === "ports");
    expect(inRanges(tcp, ports)).toBe(false);
    expect(inRanges(udp, ports)).toBe(false);
    expect(inRanges(31000, ports) || inRanges(31099, ports)).toBe(true);
  });

  it("offers a pre-reserved pool only to a framework subscribed with a role below it, and lets it refine the pool", async () => {
    const a = await start({ machine: { ...TEST_MACHINE, preReserved: [{ role: "pool", cpus: 1, memMb: 512 }] } });
    const plain = await Subscription.open(a.socketPath, subscribeBody());
    subs.push(plain);
    const only = await plain.next("offers");
    expect(only.offers.map((o) => o.allocationRole)).toEqual(["test-role"]);
    expect(only.offers[0]!.resources.filter((r) => r.reservations)).toEqual([]);
    expect(only.offers[0]!.resources.find((r) => r.name === "cpus")?.scalar).toBe(3);

    const sub = await Subscription.open(a.socketPath, subscribeBody(undefined, { name: "multi", roles: ["test-role", "pool/test-role"] }));
    subs.push(sub);
    const frameworkId = (await sub.next("subscribed")).frameworkId;
    const pool = (await sub.next("offers", (e) => e.offers[0]?.allocationRole === "pool/test-role")).offers[0]!;
    const STATIC: Reservation = { type: "STATIC", role: "pool", labels: {} };
    expect(pool.resources.map((r) => [r.name, r.scalar, r.reservations])).toEqual([
      ["cpus", 1, [STATIC]],
      ["mem", 512, [STATIC]],
    ]);
    const refined: Resource = {
      name: "cpus",
      type: "SCALAR",
      scalar: 0.5,
      reservations: [STATIC, { type: "DYNAMIC", role: "pool/test-role", principal: "test", labels: { resource_id: "r-1" } }],
    };
    const from = sub.events.length;
    const accept = encodeAccept(frameworkId, [pool.id], [{ type: "RESERVE", resources: [refined] }], { refuseSeconds: 0 }) as Json;
    expect((await call(a.socketPath, sub.streamId, accept)).status).toBe(202);
    const again = await sub.next("offers", (e) => e.offers.some((o) => o.resources.some((r) => r.reservations?.length === 2)), from);
    const back = again.offers.flatMap((o) => o.resources).find((r) => r.reservations?.length === 2);
    expect(again.offers[0]!.allocationRole).toBe("pool/test-role");
    expect(back).toMatchObject({ name: "cpus", scalar: 0.5, reservations: refined.reservations });
  });
});
