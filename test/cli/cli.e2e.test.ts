/**
 * The `corral` CLI end to end: a real scheduler (startCorral, memory store, simulated cluster)
 * on 127.0.0.1:0, and the real bin run as a child process. Assertions are on stdout, stderr and
 * exit codes only; waiting is the CLI's own `--watch` polling, bounded by vitest's timeout.
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCorral } from "../../src/app.js";
import type { Corral } from "../../src/app.js";
import { resolveOptions } from "../../src/config.js";
import { runCli, shown } from "./run-cli.js";
import type { CliResult, RunOptions } from "./run-cli.js";

const SIMPLE = readFileSync(new URL("../../examples/simple.yml", import.meta.url), "utf8");

let corral: Corral;
const corralCli = (args: readonly string[], options: RunOptions = {}): Promise<CliResult> => runCli(args, { server: corral.address, ...options });

beforeAll(async () => {
  corral = await startCorral(resolveOptions(["--listen", "127.0.0.1:0", "--store", "memory", "--cluster", "sim"], {}), pino({ level: "silent" }));
});

afterAll(async () => {
  await corral?.stop();
});

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("corral CLI against a real scheduler", () => {
  it("--help runs through the executable bin and documents the exit codes", async () => {
    const r = await runCli(["--help"], { direct: true });
    expect(r.code, shown(r)).toBe(0);
    for (const word of ["put", "list", "get", "plan", "uninstall", "watch-uninstall", "--server", "CORRAL_SERVER", "Exit codes:"]) {
      expect(r.stdout).toContain(word);
    }
  });

  it("put, then list, get and plan, as tables and as JSON", async () => {
    const put = await corralCli(["put", "simple", "examples/simple.yml"]);
    expect(put.code, shown(put)).toBe(0);
    expect(put.stdout).toMatch(/^simple: CREATED \(generation 1, /);

    const again = await corralCli(["put", "simple", "examples/simple.yml", "--json"]);
    expect(again.code, shown(again)).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ outcome: "PUT_OUTCOME_UNCHANGED", service: { name: "simple", generation: "1" } });

    const list = await corralCli(["list"]);
    expect(list.code, shown(list)).toBe(0);
    expect(list.stdout.split("\n")[0]).toMatch(/^NAME\s+STATE\s+GEN\s+PLANS$/);
    expect(list.stdout).toMatch(/^simple\s+(DEPLOYING|RUNNING)\s+1\s+deploy \w+ \d\/1, recovery/m);
    const listJson = await corralCli(["list", "--json"]);
    expect(JSON.parse(listJson.stdout).services.map((s: { name: string }) => s.name)).toEqual(["simple"]);

    const get = await corralCli(["get", "simple"]);
    expect(get.code, shown(get)).toBe(0);
    expect(get.stdout).toMatch(/^name:\s+simple$/m);
    expect(get.stdout).toMatch(/^deploy\s+\w+\s+\d\/1$/m);
    const getJson = await corralCli(["--json", "get", "simple"]);
    expect(JSON.parse(getJson.stdout)).toMatchObject({ service: { name: "simple" } });

    const plan = await corralCli(["plan", "simple"]);
    expect(plan.code, shown(plan)).toBe(0);
    expect(plan.stdout).toMatch(/^plan deploy: \w+ \(SERIAL\)$/m);
    expect(plan.stdout).toMatch(/^hello\s+hello-0:\[server\]\s+\w+/m);
    const planJson = await corralCli(["plan", "simple", "deploy", "--json"]);
    expect(JSON.parse(planJson.stdout).plan.phases[0].steps[0].name).toBe("hello-0:[server]");
  });

  it("put --watch follows the deploy plan, one line per step change, and exits 0 once COMPLETE", async () => {
    const r = await corralCli(["put", "hello", "examples/hello-world.yml", "--watch", "--interval", "50"]);
    expect(r.code, shown(r)).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^hello: CREATED/);
    expect(lines.at(-1)).toBe("plan deploy COMPLETE");
    for (const step of ["hello/hello-0:[server]", "world/world-0:[server]", "world/world-1:[server]"]) {
      expect(lines).toContain(`${step} COMPLETE`);
    }
    expect(r.stderr).toBe(""); // placement is evaluated, no longer warned about

    const watched = await corralCli(["plan", "hello", "--watch", "--json"]);
    expect(watched.code, shown(watched)).toBe(0);
    expect(JSON.parse(watched.stdout)).toMatchObject({ name: "deploy", status: "STATUS_COMPLETE" });
  });

  it("put reads the spec from stdin and takes -p/--param values", async () => {
    const spec = SIMPLE.replace("cpus: 0.1", "cpus: {{TASK_CPUS}}").replace("memory: 256", "memory: {{TASK_MEM}}");
    const r = await corralCli(["put", "templated", "-", "-p", "TASK_CPUS=0.2", "--param", "TASK_MEM=128", "--watch"], { stdin: spec });
    expect(r.code, shown(r)).toBe(0);
    expect(r.stdout.trimEnd().split("\n").at(-1)).toBe("plan deploy COMPLETE");

    const missing = await corralCli(["put", "templated-2", "-", "-p", "TASK_CPUS=0.2"], { stdin: spec });
    expect(missing.code, shown(missing)).toBe(2);
    expect(missing.stderr).toMatch(/^ {2}parameters\.TASK_MEM: /m);
  });

  it("a bad spec exits 2 and names each field on its own line", async () => {
    const other = SIMPLE.replace("{{SERVICE_NAME}}", "someone-else");
    const r = await corralCli(["put", "mine", "-"], { stdin: other });
    expect(r.code, shown(r)).toBe(2);
    expect(r.stderr).toContain("corral: PutService rejected the request (INVALID_ARGUMENT):");
    expect(r.stderr).toMatch(/^ {2}spec\.name: /m);
    expect(r.stdout).toBe("");

    const badName = await corralCli(["put", "Bad_Name", "examples/simple.yml"]);
    expect(badName.code, shown(badName)).toBe(2);
    expect(badName.stderr).toMatch(/^ {2}name: /m);
  });

  it("an unknown service or plan is NOT_FOUND, exit 3", async () => {
    for (const args of [["get", "nobody"], ["plan", "nobody"], ["plan", "simple", "no-such-plan", "--watch"]]) {
      const r = await corralCli(args);
      expect(r.code, shown(r)).toBe(3);
      expect(r.stderr).toMatch(/^corral: .*\(NOT_FOUND\)$/m);
    }
  });

  it("a scheduler that is not there is UNAVAILABLE, exit 4, naming the address", async () => {
    const address = `127.0.0.1:${await closedPort()}`;
    const viaEnv = await runCli(["list"], { server: address });
    expect(viaEnv.code, shown(viaEnv)).toBe(4);
    expect(viaEnv.stderr).toContain(`is the scheduler running at ${address}?`);
    const viaFlag = await corralCli(["--server", address, "get", "simple"]);
    expect(viaFlag.code, shown(viaFlag)).toBe(4);
    expect(viaFlag.stderr).toContain(`cannot reach the Corral scheduler at ${address} (UNAVAILABLE`);
  });

  it("uninstall --wait follows the removal to COMPLETED; watch-uninstall replays it afterwards; unknown names are NOT_FOUND", async () => {
    const put = await corralCli(["put", "gone", "examples/simple.yml", "--watch"]);
    expect(put.code, shown(put)).toBe(0);
    const removed = await corralCli(["uninstall", "gone", "--wait"]);
    expect(removed.code, shown(removed)).toBe(0);
    expect(removed.stdout).toMatch(/COMPLETED/);
    const list = await corralCli(["list", "--json"]);
    expect((JSON.parse(list.stdout) as { services: { name: string }[] }).services.map((x) => x.name)).not.toContain("gone");

    const replay = await corralCli(["watch-uninstall", "gone"]);
    expect(replay.code, shown(replay)).toBe(0);
    const lines = replay.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/STARTED/);
    expect(lines.at(-1)).toMatch(/COMPLETED/);
    const json = await corralCli(["watch-uninstall", "gone", "--json"]);
    expect(json.code, shown(json)).toBe(0);
    const kinds = json.stdout.trim().split("\n").map((l) => (JSON.parse(l) as { kind: string }).kind);
    expect(kinds.at(-1)).toBe("UNINSTALL_EVENT_KIND_COMPLETED");

    const unknown = await corralCli(["uninstall", "nobody"]);
    expect(unknown.code, shown(unknown)).toBe(3);
    const unknownWatch = await corralCli(["watch-uninstall", "nobody"]);
    expect(unknownWatch.code, shown(unknownWatch)).toBe(3);
  });

  it("put, uninstall --wait, put, uninstall --wait … all exit 0 however often a name is removed; watch-uninstall shows the current removal", async () => {
    type Event = { sequence: string; removalId: string; kind: string };
    const parse = (stdout: string): Event[] => stdout.trim().split("\n").map((l) => JSON.parse(l) as Event);
    const removals: string[] = [];
    for (let round = 1; round <= 3; round++) {
      const put = await corralCli(["put", "again", "examples/simple.yml", "--watch", "--interval", "50"]);
      expect(put.code, `round ${round}\n${shown(put)}`).toBe(0);
      // Started beside the removal: whether it subscribes before, during or after it, it shows
      // this removal, not an earlier one's events.
      const watching = corralCli(["watch-uninstall", "again", "--json"]);
      const removed = await corralCli(["uninstall", "again", "--wait"]);
      expect(removed.code, `round ${round}\n${shown(removed)}`).toBe(0);
      const lines = removed.stdout.trimEnd().split("\n");
      expect(lines[0]).toBe("again: uninstall started");
      expect(lines.filter((l) => / again STARTED /.test(l)), shown(removed)).toHaveLength(1);
      expect(lines.at(-2)).toMatch(/ again COMPLETED /);
      expect(lines.at(-1)).toBe("again: uninstalled");

      const watched = await watching;
      expect(watched.code, `round ${round}\n${shown(watched)}`).toBe(0);
      const events = parse(watched.stdout);
      const id = events[0]!.removalId;
      expect(events[0]).toMatchObject({ kind: "UNINSTALL_EVENT_KIND_STARTED", sequence: id });
      expect(events.at(-1)?.kind).toBe("UNINSTALL_EVENT_KIND_COMPLETED");
      expect(events.every((e) => e.removalId === id)).toBe(true);
      expect(removals).not.toContain(id);
      removals.push(id);
      // Afterwards, it replays the latest removal: the same events.
      const replay = await corralCli(["watch-uninstall", "again", "--json"]);
      expect(replay.code, shown(replay)).toBe(0);
      expect(parse(replay.stdout)).toEqual(events);
    }
  }, 180_000);

  it("a wrong command line exits 2 before calling anything; an unreadable file exits 1", async () => {
    for (const args of [["put", "only-a-name"], ["put", "x", "examples/simple.yml", "-p", "NOEQUALS"], ["frobnicate"], ["plan", "x", "--interval", "0"], ["watch-uninstall", "--after", "-1"]]) {
      const r = await corralCli(args);
      expect(r.code, `${args.join(" ")}\n${shown(r)}`).toBe(2);
      expect(r.stderr).toMatch(/^corral: /);
    }
    const r = await corralCli(["put", "x", "no/such/file.yml"]);
    expect(r.code, shown(r)).toBe(1);
    expect(r.stderr).toContain("corral: cannot read no/such/file.yml");
    const half = await corralCli(["--tls-cert", "client.pem", "list"]);
    expect(half.code, shown(half)).toBe(2);
    expect(half.stderr).toBe("corral: --tls-cert and --tls-key go together\n");
    const noCa = await corralCli(["list", "--tls-ca", "no/such/ca.pem"]);
    expect(noCa.code, shown(noCa)).toBe(1);
    expect(noCa.stderr).toContain("corral: cannot read --tls-ca no/such/ca.pem");
  });
});
