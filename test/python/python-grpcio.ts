/**
 * Debian's python3-grpcio (gRPC C-core, 8 KiB default metadata limit) for tests: installs the
 * package with apt when `/usr/bin/python3` cannot import grpc (we run as root, like
 * test/zk/zk-server.ts installs zookeeper), one installer at a time across test workers.
 * `/usr/bin/python3` on purpose: the pyenv python3 on PATH does not see Debian's packages.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

export const SYSTEM_PYTHON = "/usr/bin/python3";
const INSTALL_LOCK = join(tmpdir(), "corral-python3-grpcio-install.lock");
const run = promisify(execFile);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The installed grpcio version, or undefined when `import grpc` fails. */
export async function grpcioVersion(): Promise<string | undefined> {
  try {
    const { stdout } = await run(SYSTEM_PYTHON, ["-c", "import grpc; print(grpc.__version__)"]);
    return stdout.trim();
  } catch {
    return undefined;
  }
}

/** Installs python3-grpcio when missing; resolves with its version. */
export async function ensurePythonGrpcio(): Promise<string> {
  const present = await grpcioVersion();
  if (present !== undefined) return present;
  if (!existsSync(SYSTEM_PYTHON)) throw new Error(`${SYSTEM_PYTHON} is missing`);
  const deadline = Date.now() + 600_000;
  for (;;) {
    try {
      mkdirSync(INSTALL_LOCK);
      break;
    } catch {
      const v = await grpcioVersion();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${INSTALL_LOCK}`);
      await sleep(500);
    }
  }
  try {
    const again = await grpcioVersion();
    if (again !== undefined) return again;
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    const opts = { env, maxBuffer: 64 * 1024 * 1024 };
    const install = (): Promise<unknown> => run("apt-get", ["install", "-y", "--no-install-recommends", "python3-grpcio"], opts);
    try {
      await install();
    } catch {
      // An empty or stale package index: update it and try once more.
      await run("apt-get", ["update"], opts);
      await install();
    }
    const v = await grpcioVersion();
    if (v === undefined) throw new Error("apt-get install python3-grpcio did not make `import grpc` work");
    return v;
  } finally {
    rmSync(INSTALL_LOCK, { recursive: true, force: true });
  }
}
