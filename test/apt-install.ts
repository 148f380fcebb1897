/**
 * Installs Debian packages a test needs (we run as root, no systemd) when `installed()` says
 * they are missing; one installer at a time across test workers (mkdir of a lock directory is
 * atomic), the others wait for it and find the packages there.
 */
import { execFile } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function ensureDebianPackages(packages: readonly string[], installed: () => Promise<boolean>): Promise<void> {
  if (await installed()) return;
  const lock = join(tmpdir(), `corral-${packages[0]}-install.lock`);
  const deadline = Date.now() + 600_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (await installed()) return;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
      await sleep(500);
    }
  }
  try {
    if (await installed()) return;
    const opts = { env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" }, maxBuffer: 64 * 1024 * 1024 };
    const install = (): Promise<unknown> => run("apt-get", ["install", "-y", "--no-install-recommends", ...packages], opts);
    try {
      await install();
    } catch {
      // An empty or stale package index (a fresh machine): update it and try once more.
      await run("apt-get", ["update"], opts);
      await install();
    }
    if (!(await installed())) throw new Error(`apt-get install ${packages.join(" ")} did not provide what the tests need`);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
