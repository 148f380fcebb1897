/**
 * Leader detection through a real ZooKeeper server: masters registered as ephemeral sequential
 * `json.info_` nodes with MasterInfo JSON; the driver subscribes to the smallest sequence and
 * moves to the next master when the leader's node goes.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { addressOf, closeDrivers, FRAMEWORK, makeDriver, passBackoff } from "../../../../test/fixtures/mesos/driver-kit.js";
import { RecordingLogger, ScriptedMaster, waitFor } from "../../../../test/fixtures/mesos/scripted-master.js";
import { useZooKeeper } from "../../../../test/zk/use-zookeeper.js";
import { ZkSession } from "../../persister/zookeeper/session.js";
import { groupMembers, masterInfoEndpoint, createDetector } from "./master-detector.js";

describe("group members and MasterInfo", () => {
  it("orders `<label>_<seq>` children by sequence and ignores the others", () => {
    const members = groupMembers(["json.info_0000000012", "log_replicas", "info_0000000003", "json.info_0000000007"]);
    expect(members.map((m) => [m.label, m.sequence])).toEqual([["info", 3], ["json.info", 7], ["json.info", 12]]);
  });

  it("reads address.hostname (else ip) and port from MasterInfo JSON", () => {
    const info = { id: "m", ip: 184549386, port: 5050, hostname: "top", address: { hostname: "m1.example", ip: "10.0.0.11", port: 5051 } };
    expect(masterInfoEndpoint(Buffer.from(JSON.stringify(info)), "http:")).toEqual({ kind: "http", url: new URL("http://m1.example:5051") });
    const ipOnly = { address: { ip: "10.0.0.11", port: 5050 } };
    expect(masterInfoEndpoint(Buffer.from(JSON.stringify(ipOnly)), "https:")).toEqual({ kind: "http", url: new URL("https://10.0.0.11:5050") });
    expect(() => masterInfoEndpoint(Buffer.from("{}"), "http:")).toThrow(/no usable address/);
    expect(() => masterInfoEndpoint(Buffer.from("\u0008\u0001"), "http:")).toThrow(/not JSON/);
  });
});

describe("ZooKeeper master detection", () => {
  const zk = useZooKeeper();
  let session: ZkSession;
  const masters: ScriptedMaster[] = [];
  let roots = 0;

  beforeAll(async () => {
    session = await ZkSession.open({ hosts: zk().connect, sessionTimeoutMs: 4_000 });
  });
  afterAll(() => session.close());
  afterEach(async () => {
    await closeDrivers();
    for (const m of masters.splice(0)) await m.close();
  });

  function masterInfo(m: ScriptedMaster): Buffer {
    const [hostname, port] = m.hostPort.split(":");
    return Buffer.from(JSON.stringify({ id: `id-${port}`, ip: 16777343, port: Number(port), hostname, address: { hostname, ip: hostname, port: Number(port) } }));
  }

  async function register(root: string, m: ScriptedMaster, label = "json.info"): Promise<string> {
    return session.calls.createEphemeralSequential(`${root}/${label}_`, masterInfo(m));
  }

  it("subscribes to the member with the smallest sequence and follows the next one when its node goes", async () => {
    const root = `/mesos-${process.pid}-${++roots}`;
    await session.calls.mkdirp(root);
    const first = await ScriptedMaster.start();
    const second = await ScriptedMaster.start();
    masters.push(first, second);
    const firstNode = await register(root, first);
    await register(root, second);
    await session.calls.mkdirp(`${root}/log_replicas`); // not a member

    const kit = makeDriver({ kind: "zk", servers: zk().connect, path: root });
    await kit.driver.subscribe(FRAMEWORK, kit.events);
    expect(first.subscribes).toHaveLength(1);
    expect(second.subscribes).toHaveLength(0);

    await session.calls.remove(firstNode);
    await waitFor(() => kit.events.disconnects.length === 1, "the subscription dropped on the leader change");
    expect(kit.events.disconnects[0]).toBe("the leading master changed");
    await passBackoff(kit, 1);
    await waitFor(() => kit.events.subscribedIds.length === 2, "subscribed to the new leader");
    const again = second.subscribes[0]!;
    expect(again.body["framework_id"]).toEqual({ value: first.frameworkId });
    await kit.driver.kill("t");
    expect(second.calls("KILL")).toHaveLength(1);
    expect(first.calls("KILL")).toHaveLength(0);
  });

  it("waits for a master when the znode is empty or missing, and takes the first one registered", async () => {
    const root = `/mesos-${process.pid}-${++roots}`;
    const m = await ScriptedMaster.start();
    masters.push(m);
    const kit = makeDriver({ kind: "zk", servers: zk().connect, path: root });
    const subscribed = kit.driver.subscribe(FRAMEWORK, kit.events);
    subscribed.catch(() => undefined);
    await waitFor(() => kit.log.messages("warn").some((msg) => msg.includes("does not exist")), "the detector to find no znode");
    expect(m.subscribes).toHaveLength(0);
    await session.calls.mkdirp(root);
    await waitFor(() => kit.log.messages("warn").some((msg) => msg.includes("no Mesos master is registered")), "the detector to see no member");
    await register(root, m);
    await subscribed;
    expect(m.subscribes).toHaveLength(1);
  });

  it("does not take a leader registered in a format other than json.info", async () => {
    const root = `/mesos-${process.pid}-${++roots}`;
    await session.calls.mkdirp(root);
    const m = await ScriptedMaster.start();
    masters.push(m);
    const old = await register(root, m, "info");
    const log = new RecordingLogger();
    const detector = createDetector({ kind: "zk", servers: zk().connect, path: root }, { log, scheme: "http:" });
    try {
      let found: unknown;
      void detector.leader().then((e) => (found = e));
      await waitFor(() => log.messages("error").some((msg) => msg.includes("format other than JSON")), "the format error");
      expect(found).toBeUndefined();
      await register(root, m);
      await session.calls.remove(old);
      await waitFor(() => found !== undefined, "the JSON leader");
      expect(found).toEqual(addressOf(m.endpoint).kind === "http" ? { kind: "http", url: new URL(`http://${m.hostPort}`) } : undefined);
    } finally {
      detector.close();
    }
  });
});
