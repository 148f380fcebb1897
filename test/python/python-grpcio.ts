/**
 * Debian's python3-grpcio (gRPC C-core, 8 KiB default metadata limit) for tests: installs the
 * package with apt when `/usr/bin/python3` cannot import grpc (we run as root, like
 * test/zk/zk-server.ts installs zookeeper), one installer at a time across test workers.
 * `/usr/bin/python3` on purpose: the pyenv python3 on PATH does not see Debian's packages.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { promisify } from "node:util";
import { ensureDebianPackages } from "../apt-install.js";

export const SYSTEM_PYTHON = "/usr/bin/python3";
const run = promisify(execFile);

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
  if (!existsSync(SYSTEM_PYTHON)) throw new Error(`${SYSTEM_PYTHON} is missing`);
  await ensureDebianPackages(["python3-grpcio"], async () => (await grpcioVersion()) !== undefined);
  return (await grpcioVersion())!;
}
