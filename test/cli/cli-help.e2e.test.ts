/**
 * The command line itself, no scheduler needed: honest help, environment variables named, one
 * error prefix, `delete`/`remove` pointing at `uninstall`, shell completion (run in a real bash),
 * and the bin's message when the compiled CLI is missing.
 */
import { execFile, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { tempDir } from "../use-temp-dir.js";
import { CORRAL_BIN, REPO_ROOT, runCli, shown } from "./run-cli.js";

const hasZsh = spawnSync("zsh", ["-c", "exit 0"]).status === 0;

describe("corral help and errors", () => {
  it("shows no made-up defaults and names each option's environment variable", async () => {
    const top = await runCli(["--help"]);
    expect(top.code, shown(top)).toBe(0);
    const text = top.stdout.replace(/\s+/g, " "); // commander wraps at 80 columns off a terminal
    expect(text).toContain('--server <host:port,...> scheduler address, or every replica\'s comma-separated: calls go to the leader (env: CORRAL_SERVER) (default: "127.0.0.1:50051")');
    expect(text).toMatch(/--token-file <file> [^-]*\(env: CORRAL_TOKEN_FILE\)/);
    for (const command of ["put", "plan", "plans", "pod", "uninstall", "logs", "tasks", "secret", "endpoints"]) {
      const r = await runCli([command, "--help"]);
      expect(r.code, shown(r)).toBe(0);
      expect(r.stdout, command).not.toMatch(/\(default: (\{\}|""|false)\)/);
    }
  });

  it("prefixes every error with corral: (commander's own too)", async () => {
    for (const args of [["nosuch"], ["list", "--nosuch"], ["get"], ["put", "x", "no/such/file.yml", "--server", "127.0.0.1:1"]]) {
      const r = await runCli(args);
      expect(r.code, shown(r)).not.toBe(0);
      expect(r.stderr, args.join(" ")).toMatch(/^corral: /);
      expect(r.stderr, args.join(" ")).not.toMatch(/^error:/m);
    }
  });

  it.each([["delete"], ["remove"], ["rm"]])("corral %s answers: did you mean uninstall? (exit 2)", async (word) => {
    const r = await runCli([word, "hello"]);
    expect(r.code, shown(r)).toBe(2);
    expect(r.stderr.split("\n")[0]).toBe(`corral: unknown command '${word}': did you mean uninstall?`);
  });

  it("the bin says to build when the compiled CLI is missing", async () => {
    const dir = tempDir("cli-bin");
    mkdirSync(join(dir, "src", "cli"), { recursive: true });
    copyFileSync(CORRAL_BIN, join(dir, "src", "cli", "corral"));
    const r = await promisify(execFile)(process.execPath, [join(dir, "src", "cli", "corral"), "list"]).then(
      () => ({ code: 0, stderr: "" }),
      (err: { code: number; stderr: string }) => err,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`corral: the compiled CLI is missing (${join(dir, "dist", "cli", "corral.mjs")}): run npm run build\n`);
  });
});

/** Completions bash offers for `line` (the last word is being completed), through the script. */
async function bashComplete(script: string, line: string): Promise<string[]> {
  const words = line.split(" ");
  const program = [
    script,
    `COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")})`,
    `COMP_CWORD=${words.length - 1}`,
    "_corral_completion",
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join("\n");
  const { stdout } = await promisify(execFile)("bash", ["--norc", "--noprofile", "-c", program], { cwd: REPO_ROOT });
  return stdout.split("\n").filter((l) => l !== "");
}

describe("corral completion", () => {
  it("bash: completes command names, options, choices and files", async () => {
    const r = await runCli(["completion", "bash"]);
    expect(r.code, shown(r)).toBe(0);
    const script = r.stdout;
    expect(await bashComplete(script, "corral ")).toEqual(expect.arrayContaining(["put", "list", "get", "plan", "plans", "pod", "tasks", "logs", "uninstall", "scheduler", "watch-uninstall", "completion"]));
    expect(await bashComplete(script, "corral pl")).toEqual(["plan", "plans"]);
    expect(await bashComplete(script, "corral plan hello deploy ")).toEqual(["start", "stop", "interrupt", "continue", "force-complete", "restart"]);
    expect(await bashComplete(script, "corral plan hello deploy f")).toEqual(["force-complete"]);
    expect(await bashComplete(script, "corral plan hello deploy start --")).toEqual(expect.arrayContaining(["--param", "--watch"]));
    expect(await bashComplete(script, "corral pod hello ")).toEqual(["list", "info", "restart", "replace", "pause", "resume"]);
    expect(await bashComplete(script, "corral pod hello re")).toEqual(["restart", "replace", "resume"]);
    expect(await bashComplete(script, "corral --server 127.0.0.1:1 li")).toEqual(["list"]);
    expect(await bashComplete(script, "corral logs hello t --")).toEqual(expect.arrayContaining(["--stderr", "--follow", "--tail", "--server", "--json"]));
    expect(await bashComplete(script, "corral completion ")).toEqual(["bash", "zsh"]);
    expect(await bashComplete(script, "corral se")).toEqual(["secret"]);
    expect(await bashComplete(script, "corral en")).toEqual(["endpoints"]);
    expect(await bashComplete(script, "corral secret ")).toEqual(["put", "list", "delete"]);
    expect(await bashComplete(script, "corral secret put db/pw --")).toEqual(expect.arrayContaining(["--file", "--value"]));
    expect(await bashComplete(script, "corral secret put db/pw --file examples/sim")).toEqual(["examples/simple.yml"]);
    expect(await bashComplete(script, "corral put hello examples/hello-w")).toEqual(["examples/hello-world.yml"]);
    expect(await bashComplete(script, "corral --token-file examples/sim")).toEqual(["examples/simple.yml"]);
    expect(await bashComplete(script, "corral delete")).toEqual([]);
  });

  it("zsh: a #compdef script naming every command; another shell exits 2", async () => {
    const r = await runCli(["completion", "zsh"]);
    expect(r.code, shown(r)).toBe(0);
    expect(r.stdout.split("\n")[0]).toBe("#compdef corral");
    for (const command of ["put", "list", "plan", "plans", "pod", "tasks", "logs", "secret", "endpoints", "completion"]) expect(r.stdout).toContain(`'${command}:`);
    expect(r.stdout).toMatch(/^ {8}secret\) _arguments .*'1:argument:\(put list delete\)'/m);
    expect(r.stdout).toMatch(/^ {8}pod\) _arguments .*'2:argument:\(list info restart replace pause resume\)'/m);
    expect(r.stdout).toContain("compdef _corral corral");
    if (hasZsh) {
      const file = join(tempDir("cli-zsh"), "_corral");
      writeFileSync(file, r.stdout);
      await promisify(execFile)("zsh", ["-n", file]); // parses (zsh is not on every machine)
    }
    const bad = await runCli(["completion", "fish"]);
    expect(bad.code, shown(bad)).toBe(2);
    expect(bad.stderr).toMatch(/^corral: command-argument value 'fish' is invalid for argument 'shell'\. Allowed choices are bash, zsh\./);
  });
});
