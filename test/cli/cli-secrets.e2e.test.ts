/**
 * `corral secret put|list|delete` end to end: a real scheduler (startCorral, memory store,
 * simulated cluster, whose secret store is `<data-dir>/secrets`) and the real bin as a child
 * process. The value goes in from stdin, a file or --value and comes back from the store byte
 * for byte; it is printed nowhere.
 */
import { statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCorral } from "../../src/app.js";
import type { Corral } from "../../src/app.js";
import { readSecret } from "../../src/adapters/secrets/secret-files.js";
import { resolveOptions } from "../../src/config.js";
import { tempDir } from "../use-temp-dir.js";
import { runCli, shown } from "./run-cli.js";
import type { CliResult, RunOptions } from "./run-cli.js";

const VALUE = "pa55-w0rd\n with a newline and é";

let corral: Corral;
let dataDir: string;
const corralCli = (args: readonly string[], options: RunOptions = {}): Promise<CliResult> => runCli(args, { server: corral.address, ...options });
const stored = (name: string): string | undefined => {
  const v = readSecret(join(dataDir, "secrets"), name);
  return v === undefined ? undefined : Buffer.from(v).toString("utf8");
};

beforeAll(async () => {
  dataDir = tempDir("cli-secrets");
  corral = await startCorral(resolveOptions(["--listen", "127.0.0.1:0", "--store", "memory", "--cluster", "sim", "--data-dir", dataDir], {}), pino({ level: "silent" }));
});

afterAll(async () => {
  await corral?.stop();
});

describe("corral secret against a real scheduler", () => {
  it("put from stdin, from --file and with --value; the bytes stored as given and never printed", async () => {
    const fromStdin = await corralCli(["secret", "put", "hello-world/secret1"], { stdin: VALUE });
    expect(fromStdin.code, shown(fromStdin)).toBe(0);
    expect(fromStdin.stdout).toBe(`secret hello-world/secret1: stored (${Buffer.byteLength(VALUE)} bytes)\n`);
    expect(stored("hello-world/secret1")).toBe(VALUE);

    const file = join(tempDir("cli-secrets"), "value.bin");
    writeFileSync(file, Buffer.from([0, 1, 2, 255]));
    const fromFile = await corralCli(["secret", "put", "bin", "--file", file]);
    expect(fromFile.code, shown(fromFile)).toBe(0);
    expect([...readSecret(join(dataDir, "secrets"), "bin")!]).toEqual([0, 1, 2, 255]);

    const given = await corralCli(["secret", "put", "given", "--value", "v4lue"]);
    expect(given.code, shown(given)).toBe(0);
    expect(stored("given")).toBe("v4lue");
    const dash = await corralCli(["secret", "put", "dash", "--file", "-", "--json"], { stdin: "v4lue-2" });
    expect(dash.code, shown(dash)).toBe(0);
    expect(JSON.parse(dash.stdout)).toEqual({ name: "dash", sizeBytes: "7" });
    expect(stored("dash")).toBe("v4lue-2");
    expect((await corralCli(["secret", "delete", "dash"])).code).toBe(0);
    for (const r of [fromStdin, fromFile, given, dash]) expect(r.stdout + r.stderr).not.toMatch(/pa55|v4lue/);
  });

  it("list: names, sizes and update times as a table and as JSON; no value", async () => {
    const list = await corralCli(["secret", "list"]);
    expect(list.code, shown(list)).toBe(0);
    const lines = list.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^NAME\s+SIZE\s+UPDATED$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 2))).toEqual([["bin", "4"], ["given", "5"], ["hello-world/secret1", String(Buffer.byteLength(VALUE))]]);
    expect(lines[1]).toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const asJson = await corralCli(["--json", "secret", "list"]);
    expect(asJson.code, shown(asJson)).toBe(0);
    const parsed = JSON.parse(asJson.stdout) as { secrets: { name: string; sizeBytes: string; updateTime: string }[] };
    expect(parsed.secrets.map((s) => [s.name, s.sizeBytes])).toEqual([["bin", "4"], ["given", "5"], ["hello-world/secret1", String(Buffer.byteLength(VALUE))]]);
    expect(list.stdout + asJson.stdout).not.toMatch(/pa55|v4lue/);
  });

  it("delete: deleted, then not stored (still exit 0: deleting is idempotent)", async () => {
    const first = await corralCli(["secret", "delete", "given"]);
    expect(first.code, shown(first)).toBe(0);
    expect(first.stdout).toBe("secret given: deleted\n");
    expect(stored("given")).toBeUndefined();
    const again = await corralCli(["secret", "delete", "given", "--json"]);
    expect(again.code, shown(again)).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ existed: false });
  });

  it("a bad name or an oversize value: exit 2 naming the field; nothing stored", async () => {
    const bad = await corralCli(["secret", "put", "../escape", "--value", "x"]);
    expect(bad.code, shown(bad)).toBe(2);
    expect(bad.stderr).toMatch(/^corral: PutSecret rejected the request \(INVALID_ARGUMENT\):\n {2}name: must be segments/);
    const big = await corralCli(["secret", "put", "big"], { stdin: "s".repeat(64 * 1024 + 1) });
    expect(big.code, shown(big)).toBe(2);
    expect(big.stderr).toContain("  value: must be at most 65536 bytes, got 65537");
    expect(stored("big")).toBeUndefined();
    const badDelete = await corralCli(["secret", "delete", "/etc/passwd"]);
    expect(badDelete.code, shown(badDelete)).toBe(2);
  });

  it("a wrong command line: exit 2 before any call", async () => {
    for (const args of [["secret", "put"], ["secret", "put", "a", "--file", "f", "--value", "v"], ["secret", "list", "x"], ["secret", "delete", "a", "--value", "v"], ["secret", "show", "a"]]) {
      const r = await corralCli(args);
      expect(r.code, `${args.join(" ")}\n${shown(r)}`).toBe(2);
      expect(r.stderr).toMatch(/^corral: /);
    }
    const missing = await corralCli(["secret", "put", "a", "--file", "no/such/file"]);
    expect(missing.code, shown(missing)).toBe(1);
    expect(missing.stderr).toMatch(/^corral: cannot read no\/such\/file: /);
    expect(stored("a")).toBeUndefined();
  });

  it("the stored file is readable by its owner only (0600)", () => {
    expect(statSync(join(dataDir, "secrets", encodeURIComponent("hello-world/secret1"))).mode & 0o777).toBe(0o600);
  });
});
