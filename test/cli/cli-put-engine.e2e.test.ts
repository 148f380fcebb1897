/**
 * `corral put --dry-run` and `--expect-generation` end to end: a real scheduler (startCorral,
 * memory store, simulated cluster) on 127.0.0.1:0 and the real bin as child processes.
 */
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCorral } from "../../src/app.js";
import type { Corral } from "../../src/app.js";
import { resolveOptions } from "../../src/config.js";
import { runCli, shown } from "./run-cli.js";
import type { CliResult } from "./run-cli.js";

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
});
