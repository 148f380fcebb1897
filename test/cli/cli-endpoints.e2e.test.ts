/**
 * `corral endpoints NAME [PORT_NAME]` end to end through the real gRPC edge (AdminServer) over
 * an AdminApi whose getEndpoints answers as the engine's does, and the real bin as a child
 * process: the blocks it prints, --json, and the exit codes of NOT_FOUND and INVALID_ARGUMENT.
 */
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminServer } from "../../src/adapters/grpc/server.js";
import { SchedulerError } from "../../src/domain/errors.js";
import type { AdminApi, EndpointView } from "../../src/engine/admin-api.js";
import { runCli, shown } from "./run-cli.js";
import type { CliResult } from "./run-cli.js";

const HELLO: readonly EndpointView[] = [
  {
    name: "http",
    addresses: ["10.0.0.1:31000", "10.0.0.2:31001"],
    dns: ["hello-0-server.hello.autoip.dcos.thisdcos.directory:31000", "hello-1-server.hello.autoip.dcos.thisdcos.directory:31001"],
    vip: "web.hello.l4lb.thisdcos.directory:80",
  },
  { name: "metrics", addresses: [], dns: [] },
];

const unused = (): never => {
  throw new Error("unused");
};
const api: AdminApi = {
  putService: unused,
  uninstallService: unused,
  watchUninstall: unused,
  listServices: () => [],
  getService: unused,
  getPlan: unused,
  getScheduler: () => ({ state: "RUNNING", services: 0, uninstalling: 0, lastUninstallEvent: 0n, serviceMode: "dynamic" as const, schemaVersion: 2 as const }),
  async getEndpoints(name, portName) {
    if (name.includes("__")) throw SchedulerError.invalid([{ field: "name", reason: "must not contain '__'" }]);
    if (name !== "hello" && name !== "quiet") throw new SchedulerError("not_found", `service '${name}' not found`);
    const all = name === "hello" ? HELLO : [];
    if (portName === undefined) return all;
    const one = all.filter((e) => e.name === portName);
    if (one.length === 0) throw new SchedulerError("not_found", `service '${name}' has no endpoint '${portName}' (endpoints: http, metrics)`);
    return one;
  },
};

let server: AdminServer;
let address: string;
const corralCli = (args: readonly string[]): Promise<CliResult> => runCli(args, { server: address });

beforeAll(async () => {
  server = new AdminServer({ api, logger: pino({ level: "silent" }) });
  const { port } = await server.listen("127.0.0.1:0");
  address = `127.0.0.1:${port}`;
});
afterAll(async () => {
  await server?.stop(1000);
});

describe("corral endpoints", () => {
  it("prints each endpoint: addresses, DNS names, VIP; one with no running task says so", async () => {
    const r = await corralCli(["endpoints", "hello"]);
    expect(r.code, shown(r)).toBe(0);
    expect(r.stdout).toBe(
      [
        "http",
        "  address  10.0.0.1:31000",
        "           10.0.0.2:31001",
        "  dns      hello-0-server.hello.autoip.dcos.thisdcos.directory:31000",
        "           hello-1-server.hello.autoip.dcos.thisdcos.directory:31001",
        "  vip      web.hello.l4lb.thisdcos.directory:80",
        "",
        "metrics",
        "  address  - (no running task)",
        "",
      ].join("\n"),
    );
  });

  it("one endpoint by port name, and --json (proto3 JSON)", async () => {
    const one = await corralCli(["endpoints", "hello", "metrics"]);
    expect(one.code, shown(one)).toBe(0);
    expect(one.stdout).toBe("metrics\n  address  - (no running task)\n");
    const asJson = await corralCli(["endpoints", "hello", "http", "--json"]);
    expect(asJson.code, shown(asJson)).toBe(0);
    expect(JSON.parse(asJson.stdout)).toEqual({
      endpoints: [{ name: "http", address: [...HELLO[0]!.addresses], dns: [...HELLO[0]!.dns], vip: HELLO[0]!.vip }],
    });
  });

  it("a service without endpoints says so", async () => {
    const r = await corralCli(["endpoints", "quiet"]);
    expect(r.code, shown(r)).toBe(0);
    expect(r.stdout).toBe("quiet: no endpoints (its spec advertises no port and has no VIP)\n");
  });

  it("an unknown service or port name: exit 3; a bad service name: exit 2 naming service_name", async () => {
    const service = await corralCli(["endpoints", "nope"]);
    expect(service.code, shown(service)).toBe(3);
    expect(service.stderr).toBe("corral: service 'nope' not found (NOT_FOUND)\n");
    const port = await corralCli(["endpoints", "hello", "nope"]);
    expect(port.code, shown(port)).toBe(3);
    expect(port.stderr).toMatch(/no endpoint 'nope' \(endpoints: http, metrics\)/);
    const bad = await corralCli(["endpoints", "a__b"]);
    expect(bad.code, shown(bad)).toBe(2);
    expect(bad.stderr).toBe("corral: GetEndpoints rejected the request (INVALID_ARGUMENT):\n  service_name: must not contain '__'\n");
  });
});
