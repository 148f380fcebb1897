/**
 * `corral put --dry-run` and `--expect-generation` end to end: a real scheduler (startCorral,
 * memory store, simulated cluster) on 127.0.0.1:0 and the real bin as child processes.
 */
import { readFileSync } from "node:fs";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCorral } from "../../src/app.js";
import type { Corral } from "../../src/app.js";
import { resolveOptions } from "../../src/config.js";
import { runCli, shown } from "./run-cli.js";
import type { CliResult } from "./run-cli.js";

const HELLO_WORLD = readFileSync(new URL("../../examples/hello-world.yml", import.meta.url), "utf8");
/** hello-world with the world pod's command changed. */
const WORLD_CHANGED = HELLO_WORLD.replace("echo world1 >>", "echo world1 again >>");
/** hello-world with the hello pod (no allow-decommission) shrunk from 1 to 0. */
const HELLO_SHRUNK = HELLO_WORLD.replace("count: 1", "count: 0");

let corral: Corral;
const cli = (args: readonly string[]): Promise<CliResult> => runCli(args, { server: corral.address });

beforeAll(async () => {
  corral = await startCorral(resolveOptions(["--listen", "127.0.0.1:0", "--store", "memory", "--cluster", "sim"], {}), pino({ level: "silent" }));
});

afterAll(async () => {
  await corral?.stop();
});

describe("corral put against a real scheduler", () => {
  it("--dry-run of a new service prints the plan it would run and stores nothing", async () => {
    const r = await cli(["put", "hello", "examples/hello-world.yml", "--dry-run"]);
    expect(r.code, shown(r)).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines.slice(0, 4)).toEqual([
      "hello: dry run: would be CREATED (nothing was stored, generation 1)",
      "  relaunched:     none",
      "  added:          hello-0, world-0, world-1",
      "  decommissioned: none",
    ]);
    expect(lines[5]).toMatch(/^would run plan deploy: PENDING \(SERIAL\)$/);
    expect(lines.filter((l) => /^(hello|world)\s+\S+-\d:\[/.test(l))).toHaveLength(3);

    const get = await cli(["get", "hello"]);
    expect(get.code, shown(get)).toBe(3);
    const list = await cli(["list"]);
    expect(list.stdout).toBe("no services\n");
  });

  it("two puts racing with --expect-generation 0: one creates, the other is ABORTED (exit 6)", async () => {
    const [a, b] = await Promise.all([
      cli(["put", "race", "examples/simple.yml", "--expect-generation", "0"]),
      cli(["put", "race", "examples/simple.yml", "--expect-generation", "0"]),
    ]);
    const results = [a!, b!];
    const created = results.filter((r) => r.code === 0);
    const aborted = results.filter((r) => r.code === 6);
    expect(created, results.map(shown).join("\n")).toHaveLength(1);
    expect(aborted, results.map(shown).join("\n")).toHaveLength(1);
    expect(created[0]!.stdout).toMatch(/^race: CREATED \(generation 1, /);
    expect(aborted[0]!.stderr).toContain("PutService was aborted (ABORTED): service 'race' is at generation 1, not the expected 0");
  });

  it("--expect-generation: the current generation goes ahead, another is ABORTED and changes nothing", async () => {
    const stale = await cli(["put", "race", "examples/hello-world.yml", "--expect-generation", "7"]);
    expect(stale.code, shown(stale)).toBe(6);
    const same = await cli(["put", "race", "examples/simple.yml", "--expect-generation", "1"]);
    expect(same.code, shown(same)).toBe(0);
    expect(same.stdout).toMatch(/^race: UNCHANGED \(generation 1, /);
    const get = await cli(["get", "race"]);
    expect(get.stdout).toMatch(/^generation: 1$/m);
  });

  it("reconfigures: --dry-run shows the pods a change relaunches and stores nothing; the put then relaunches them; a refused shrink lists why", async () => {
    const created = await cli(["put", "recon", "examples/hello-world.yml"]);
    expect(created.code, shown(created)).toBe(0);

    const dry = await runCli(["put", "recon", "-", "--dry-run"], { server: corral.address, stdin: WORLD_CHANGED });
    expect(dry.code, shown(dry)).toBe(0);
    expect(dry.stdout.split("\n").slice(0, 4)).toEqual([
      "recon: dry run: would be UPDATED (nothing was stored, generation 1)",
      "  relaunched:     world-0, world-1",
      "  added:          none",
      "  decommissioned: none",
    ]);
    expect(dry.stdout).toMatch(/^would run plan deploy: /m);
    expect((await cli(["get", "recon"])).stdout).toMatch(/^generation: 1$/m);

    const refused = await runCli(["put", "recon", "-", "--dry-run"], { server: corral.address, stdin: HELLO_SHRUNK });
    expect(refused.code, shown(refused)).toBe(1);
    expect(refused.stdout).toBe(
      "recon: dry run: the change would be refused (nothing was stored, generation 1):\n" +
        "  spec.pods.hello.count: count 0 is below the running 1; set allow-decommission: true on pod hello to remove instances\n",
    );

    const shrink = await runCli(["put", "recon", "-"], { server: corral.address, stdin: HELLO_SHRUNK });
    expect(shrink.code, shown(shrink)).toBe(1);
    expect(shrink.stderr).toContain(
      "corral: PutService refused the change (FAILED_PRECONDITION); nothing was changed:\n" +
        "  spec.pods.hello.count: count 0 is below the running 1; set allow-decommission: true on pod hello to remove instances\n",
    );

    const updated = await runCli(["put", "recon", "-", "--expect-generation", "1"], { server: corral.address, stdin: WORLD_CHANGED });
    expect(updated.code, shown(updated)).toBe(0);
    const lines = updated.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^recon: UPDATED \(generation 2, /);
    expect(lines.slice(1, 4)).toEqual(["  relaunched:     world-0, world-1", "  added:          none", "  decommissioned: none"]);
    expect(lines[4]).toMatch(/^ {2}plan deploy \w+: \d+ of 3 steps to run/);
    expect((await cli(["get", "recon"])).stdout).toMatch(/^generation: 2$/m);

    // Two callers change the service from generation 2 at once: one wins, the other is told.
    const change = (word: string): string => HELLO_WORLD.replace("echo world1 >>", `echo ${word} >>`);
    const raced = await Promise.all(
      ["first", "second"].map((w) => runCli(["put", "recon", "-", "--expect-generation", "2"], { server: corral.address, stdin: change(w) })),
    );
    const all = raced.map(shown).join("\n");
    expect(raced.filter((r) => r.code === 0 && r.stdout.startsWith("recon: UPDATED (generation 3, ")), all).toHaveLength(1);
    expect(raced.filter((r) => r.code === 6 && r.stderr.includes("is at generation 3, not the expected 2")), all).toHaveLength(1);
  });
});
