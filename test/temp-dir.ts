/**
 * Names of the temp entries the tests create in the system temp dir (os.tmpdir()). Every one
 * starts with `corral-`, and during a vitest run also carries the run's tag, which
 * test/global-setup.ts puts in CORRAL_TEST_RUN before any worker starts: the tag tells this
 * run's entries from those of another run on the same machine, and the check after the run
 * lists what this run left behind.
 *
 *   corral-<kind>-<tag>-XXXXXX     (mkdtemp's random suffix)
 *
 * No vitest import here: the chaos runner (`npm run chaos`) and ZooKeeper harness use this
 * outside vitest too. Inside tests, use-temp-dir.ts also removes what it made.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Every temp entry of the tests starts with this. */
export const TEMP_PREFIX = "corral-";
/** The environment variable holding the vitest run's tag. */
export const RUN_TAG_ENV = "CORRAL_TEST_RUN";

/** `<tmpdir>/corral-<kind>-<tag>-`, ready for mkdtemp. */
export function tempPrefix(kind: string): string {
  if (!/^[a-z0-9-]+$/.test(kind)) throw new Error(`temp dir kind must be [a-z0-9-]+: ${JSON.stringify(kind)}`);
  const tag = process.env[RUN_TAG_ENV];
  return join(tmpdir(), `${TEMP_PREFIX}${kind}-${tag ? `${tag}-` : ""}`);
}

/** A new directory `<tmpdir>/corral-<kind>-<tag>-XXXXXX`; the caller removes it. */
export function makeTempDir(kind: string): string {
  return mkdtempSync(tempPrefix(kind));
}
