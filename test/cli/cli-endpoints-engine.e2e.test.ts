/**
 * `corral endpoints` against a real scheduler (startCorral, memory store, simulated cluster): a
 * service whose task advertises a port and has a VIP, deployed; the CLI prints the running
 * task's host:port, its DNS name and the VIP. Needs the engine's getEndpoints and the offer
 * side's DiscoveryInfo (issue 15 branches engine and offer).
 */
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCorral } from "../../src/app.js";
import type { Corral } from "../../src/app.js";
import { resolveOptions } from "../../src/config.js";
import { tempDir } from "../use-temp-dir.js";
import { runCli, shown } from "./run-cli.js";
import type { CliResult, RunOptions } from "./run-cli.js";

const SPEC = [
  "name: {{SERVICE_NAME}}",
  "pods:",
  "  web:",
  "    count: 1",
  "    tasks:",
  "      server:",
  "        goal: RUNNING",
  "        cmd: sleep 1000",
  "        cpus: 0.1",
  "        memory: 32",
  "        ports:",
  "          http:",
  "            port: 0",
  "            advertise: true",
  "            vip:",
  "              prefix: front",
  "              port: 80",
  "          admin:",
  "            port: 0",
  "",
].join("\n");

let corral: Corral;
const corralCli = (args: readonly string[], options: RunOptions = {}): Promise<CliResult> => runCli(args, { server: corral.address, ...options });

beforeAll(async () => {
  corral = await startCorral(resolveOptions(["--listen", "127.0.0.1:0", "--store", "memory", "--cluster", "sim", "--data-dir", tempDir("cli-endpoints")], {}), pino({ level: "silent" }));
});
afterAll(async () => {
  await corral?.stop();
});

describe("corral endpoints against a real scheduler", () => {
  it("lists the advertised port of the running task with its DNS name and VIP; the other port is not an endpoint", async () => {
    const put = await corralCli(["put", "shop", "-", "--watch", "--interval", "50"], { stdin: SPEC });
    expect(put.code, shown(put)).toBe(0);
    const r = await corralCli(["endpoints", "shop"]);
    expect(r.code, shown(r)).toBe(0);
    expect(r.stdout).toMatch(/^http\n {2}address {2}\S+:\d+\n {2}dns {6}web-0-server\.\S+\.autoip\.dcos\.thisdcos\.directory:\d+\n {2}vip {6}front\.\S+\.l4lb\.thisdcos\.directory:80\n$/);
    const json = await corralCli(["endpoints", "shop", "http", "--json"]);
    expect(JSON.parse(json.stdout).endpoints.map((e: { name: string }) => e.name)).toEqual(["http"]);
    const admin = await corralCli(["endpoints", "shop", "admin"]);
    expect(admin.code, shown(admin)).toBe(3);
    const none = await corralCli(["endpoints", "nosuch"]);
    expect(none.code, shown(none)).toBe(3);
    expect(none.stderr).toBe("corral: service 'nosuch' not found (NOT_FOUND)\n");
  });
});
