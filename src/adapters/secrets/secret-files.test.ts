import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SecretFiles, readSecret } from "./secret-files.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function store(): { dir: string; secrets: SecretFiles } {
  const base = mkdtempSync(join(tmpdir(), "corral-secrets-"));
  dirs.push(base);
  const dir = join(base, "secrets");
  return { dir, secrets: new SecretFiles(dir) };
}

describe("SecretFiles", () => {
  it("stores values 0600 in a 0700 directory, lists names and sizes only, deletes", async () => {
    const { dir, secrets } = store();
    await secrets.put("hello/db-password", new TextEncoder().encode("s3cret"));
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, "hello%2Fdb-password")).mode & 0o777).toBe(0o600);
    expect(new TextDecoder().decode(readSecret(dir, "hello/db-password"))).toBe("s3cret");
    const listed = await secrets.list();
    expect(listed.map((e) => [e.name, e.sizeBytes])).toEqual([["hello/db-password", 6]]);
    expect(JSON.stringify(listed)).not.toContain("s3cret");
    expect(await secrets.delete("hello/db-password")).toBe(true);
    expect(await secrets.delete("hello/db-password")).toBe(false);
    expect(readSecret(dir, "hello/db-password")).toBeUndefined();
  });

  it("refuses names that could leave the store or exceed a file name, and leaves nothing behind", async () => {
    const { dir, secrets } = store();
    for (const name of ["../x", "a//b", "/abs", ".hidden", "", "a/" + "b/".repeat(90) + "c"]) {
      await expect(secrets.put(name, new Uint8Array(1))).rejects.toMatchObject({ code: "invalid_argument" });
    }
    await expect(secrets.put("big", new Uint8Array(64 * 1024 + 1))).rejects.toMatchObject({ code: "invalid_argument" });
    const longest = "a".repeat(253) + "/b"; // 253 + 3 + 1 = 257 > 255
    await expect(secrets.put(longest, new Uint8Array(1))).rejects.toMatchObject({ code: "invalid_argument" });
    const fits = "a".repeat(251) + "/b"; // 255
    await secrets.put(fits, new Uint8Array(1));
    expect(readdirSync(dir)).toEqual([encodeURIComponent(fits)]);
    expect(readSecret(dir, "../x")).toBeUndefined();
  });
});
