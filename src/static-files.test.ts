/** Reading static and mono mode's spec files at start: what each path gives, and each way it fails. */
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SchedulerError } from "./domain/errors.js";
import { baseName, loadStaticFiles } from "./static-files.js";
import { tempDir } from "../test/use-temp-dir.js";

/** A directory holding `files` (name → text). */
function dirWith(files: Record<string, string>): string {
  const dir = tempDir("static-files");
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

function failure(run: () => unknown): SchedulerError {
  try {
    run();
  } catch (err) {
    if (err instanceof SchedulerError) return err;
    throw err;
  }
  throw new Error("loaded");
}

describe("loadStaticFiles", () => {
  it("gives a directory's *.yml and *.yaml files sorted by name, then files given by name, each with the parameters", () => {
    const dir = dirWith({ "web.yaml": "name: web", "db.yml": "name: db", "Zeta.yml": "name: Z", "notes.txt": "x", ".hidden.yml": "x", "README.md": "x" });
    const other = dirWith({ "cache.spec": "name: {{SERVICE_NAME}}" });
    const files = loadStaticFiles({ mode: "static", servicePaths: [dir, join(other, "cache.spec")], parameters: { COUNT: "2" } });
    expect(files).toEqual([
      { file: join(dir, "Zeta.yml"), base: "Zeta", spec: "name: Z", parameters: { COUNT: "2" } },
      { file: join(dir, "db.yml"), base: "db", spec: "name: db", parameters: { COUNT: "2" } },
      { file: join(dir, "web.yaml"), base: "web", spec: "name: web", parameters: { COUNT: "2" } },
      { file: join(other, "cache.spec"), base: "cache.spec", spec: "name: {{SERVICE_NAME}}", parameters: { COUNT: "2" } },
    ]);
  });

  it("gives a file once, however often it is named (twice, or by name and in its directory)", () => {
    const dir = dirWith({ "db.yml": "name: db", "web.yml": "name: web" });
    const files = loadStaticFiles({ mode: "static", servicePaths: [join(dir, "web.yml"), dir, join(dir, "web.yml")], parameters: {} });
    expect(files.map((f) => f.file)).toEqual([join(dir, "web.yml"), join(dir, "db.yml")]);
  });

  it("gives mono mode's one file, and nothing in dynamic mode", () => {
    const dir = dirWith({ "hello-world.yml": "name: {{SERVICE_NAME}}\n" });
    expect(loadStaticFiles({ mode: "mono", servicePaths: [join(dir, "hello-world.yml")], parameters: {} })).toEqual([
      { file: join(dir, "hello-world.yml"), base: "hello-world", spec: "name: {{SERVICE_NAME}}\n", parameters: {} },
    ]);
    expect(loadStaticFiles({ mode: "dynamic", servicePaths: [], parameters: {} })).toEqual([]);
  });

  it("refuses a missing path, naming it", () => {
    const dir = tempDir("static-files");
    const err = failure(() => loadStaticFiles({ mode: "static", servicePaths: [join(dir, "specs")], parameters: {} }));
    expect(err.code).toBe("failed_precondition");
    expect(err.message).toBe(`--services ${join(dir, "specs")}: cannot read it: no such file or directory`);
    expect(failure(() => loadStaticFiles({ mode: "mono", servicePaths: [join(dir, "one.yml")], parameters: {} })).message).toBe(
      `--service ${join(dir, "one.yml")}: cannot read it: no such file or directory`,
    );
  });

  it("refuses a directory without a spec file", () => {
    const dir = dirWith({ "notes.txt": "x" });
    expect(failure(() => loadStaticFiles({ mode: "static", servicePaths: [dir], parameters: {} })).message).toBe(
      `--services ${dir}: the directory holds no spec file (*.yml or *.yaml)`,
    );
  });

  it("refuses a directory as mono mode's file", () => {
    const dir = dirWith({ "a.yml": "x" });
    expect(failure(() => loadStaticFiles({ mode: "mono", servicePaths: [dir], parameters: {} })).message).toBe(`--service ${dir} is a directory; mono mode takes one spec file`);
  });

  it("refuses a spec file that cannot be read: a dangling link, a directory named like a spec", () => {
    const dir = dirWith({ "a.yml": "name: a" });
    symlinkSync(join(dir, "gone.yml"), join(dir, "b.yml"));
    expect(failure(() => loadStaticFiles({ mode: "static", servicePaths: [dir], parameters: {} })).message).toBe(
      `spec file ${join(dir, "b.yml")}: cannot read it: no such file or directory`,
    );
    const nested = dirWith({});
    mkdirSync(join(nested, "sub.yml"));
    expect(failure(() => loadStaticFiles({ mode: "static", servicePaths: [nested], parameters: {} })).message).toBe(
      `spec file ${join(nested, "sub.yml")}: cannot read it: is a directory`,
    );
  });
});

describe("baseName", () => {
  it("drops .yml and .yaml only", () => {
    expect(["a/hello-world.yml", "b/db.yaml", "c/x.yml.bak", "d/plain", "e/.yml"].map(baseName)).toEqual(["hello-world", "db", "x.yml.bak", "plain", ".yml"]);
  });
});
