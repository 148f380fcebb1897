/**
 * Runs after every other test file (its own vitest project, sequence.groupOrder 1): the test
 * files of this run, their afterAll hooks done, left no temp entry with this run's tag in the
 * system temp dir. test/global-setup.ts checks the same again after the run.
 */
import { readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RUN_TAG_ENV, TEMP_PREFIX } from "../temp-dir.js";

const tag = process.env[RUN_TAG_ENV];

describe("after every other test file", () => {
  it.skipIf(!tag)(`left nothing in ${tmpdir()}`, () => {
    const left = readdirSync(tmpdir())
      .filter((e) => e.startsWith(TEMP_PREFIX) && e.includes(`-${tag}-`))
      .map((e) => join(tmpdir(), e));
    expect(left, "temp entries of this run still there: remove them in afterAll/afterEach (test/use-temp-dir.ts)").toEqual([]);
  });
});
