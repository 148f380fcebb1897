/**
 * The agent writes into sandboxes as root: a symbolic link inside a sandbox (made by the task,
 * or unpacked from one of its archives) must never carry a write out of it.
 */
import { existsSync, mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../../../../test/use-temp-dir.js";
import { assertNoLinkOnTheWay, linkAt } from "./sandbox.js";

describe("writes into a sandbox", () => {
  it("refuse a path through a symbolic link, and allow real and missing directories", () => {
    const root = tempDir("sandbox-links");
    const sandbox = join(root, "sandbox");
    const outside = join(root, "outside");
    mkdirSync(join(sandbox, "real"), { recursive: true });
    mkdirSync(outside);
    symlinkSync(outside, join(sandbox, "d"));
    expect(() => assertNoLinkOnTheWay(sandbox, "d/x")).toThrow(/'d' in the sandbox is not a directory/);
    expect(() => assertNoLinkOnTheWay(sandbox, "real/d2/x")).not.toThrow();
    expect(() => assertNoLinkOnTheWay(sandbox, "d")).not.toThrow(); // the entry itself is replaced, not followed
    expect(() => linkAt(sandbox, "/etc", "d/etc")).toThrow(/not a directory/);
    expect(existsSync(join(outside, "etc"))).toBe(false);
    linkAt(sandbox, "/etc", "real/etc");
    expect(existsSync(join(sandbox, "real", "etc", "passwd"))).toBe(true);
  });
});
