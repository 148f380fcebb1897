/**
 * A real standalone ZooKeeper server for tests (toolchain.md §6). Installs the Debian package
 * `zookeeper` when its jar is missing (we run as root, no systemd), writes a zoo.cfg in a temp
 * dir (`corral-zk-<run tag>-XXXXXX`, removed by stop()), starts `java … ZooKeeperServerMain` on
 * a free port and waits until `srvr` reports `Mode: standalone` (`ruok` answers too early).
 * `npm run zookeeper` (test/zk/main.ts) runs one on a fixed port with a kept directory.
 *
 *   const zk = await startZooKeeper();   // zk.connect === "127.0.0.1:PORT"
 *   …
 *   await zk.stop();
 *
 * Each test file starts its own server in `beforeAll` (give that hook a long timeout: a first
 * install takes about 30 s). Concurrent installs from parallel test files are serialized by a
 * lock directory.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, openSync, closeSync } from "node:fs";
import { connect as netConnect, createServer } from "node:net";
import { join } from "node:path";
import { ensureDebianPackages } from "../apt-install.js";
import { makeTempDir } from "../temp-dir.js";

const ZK_JAR = "/usr/share/java/zookeeper.jar";
const SLF4J_SIMPLE = "/usr/share/java/slf4j-simple.jar";
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface ZooKeeperServer {
  /** "127.0.0.1:PORT", without chroot. */
  readonly connect: string;
  /** The java process id (tests freeze it with SIGSTOP to simulate a hung server). */
  readonly pid: number;
  /** The directory with zoo.cfg, zk.log and data/. */
  readonly dir: string;
  /** Resolves when the java process exits (also when stop() stopped it). */
  readonly exited: Promise<void>;
  /** Stops the server (SIGTERM, SIGKILL after 10 s) and removes its directory unless it was given. */
  stop(): Promise<void>;
}

export interface ZooKeeperOptions {
  readonly readyTimeoutMs?: number;
  /** The client port on 127.0.0.1; default a free one. */
  readonly port?: number;
  /** Keep the server's files here (created if missing, never removed); default a temp dir that stop() removes. */
  readonly dir?: string;
  /**
   * Run java in its own process group (default true: a test's SIGSTOP/SIGKILL reaches it alone).
   * false: a terminal's Ctrl-C or a group kill reaches it with its parent.
   */
  readonly detached?: boolean;
}

/** Installs the Debian package when the jar is missing; a no-op otherwise. */
export async function ensureZooKeeperInstalled(): Promise<void> {
  await ensureDebianPackages(["zookeeper", "libslf4j-java"], async () => existsSync(ZK_JAR));
}

/** A port that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Sends a four-letter word and returns the whole reply ("" on any error). */
export function fourLetterWord(port: number, word: string, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve) => {
    let reply = "";
    const sock = netConnect({ host: "127.0.0.1", port });
    const done = (): void => {
      sock.destroy();
      resolve(reply);
    };
    sock.setTimeout(timeoutMs, done);
    sock.on("connect", () => sock.write(word));
    sock.on("data", (d: Buffer) => (reply += d.toString("utf8")));
    sock.on("end", done);
    sock.on("error", done);
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** The last lines of a file, indented ("" when unreadable). */
function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).map((l) => `  ${l}`).join("\n");
  } catch {
    return "";
  }
}

/** Starts a standalone server with its own data dir; resolves once it serves requests. */
export async function startZooKeeper(options: ZooKeeperOptions = {}): Promise<ZooKeeperServer> {
  await ensureZooKeeperInstalled();
  const keep = options.dir !== undefined;
  const dir = options.dir ?? makeTempDir("zk");
  if (keep) mkdirSync(dir, { recursive: true });
  const port = options.port ?? (await freePort());
  const cfg = join(dir, "zoo.cfg");
  writeFileSync(
    cfg,
    [
      "tickTime=500",
      `dataDir=${join(dir, "data")}`,
      `clientPort=${port}`,
      "clientPortAddress=127.0.0.1",
      "maxClientCnxns=0",
      "admin.enableServer=false",
      "4lw.commands.whitelist=ruok,srvr,stat,mntr,cons,wchs",
      "minSessionTimeout=1000",
      "maxSessionTimeout=30000",
      "",
    ].join("\n"),
  );
  const classpath = existsSync(SLF4J_SIMPLE) ? `${ZK_JAR}:${SLF4J_SIMPLE}` : ZK_JAR;
  const log = openSync(join(dir, "zk.log"), "a");
  const child = spawn(
    "java",
    [
      "-Xmx256m",
      "-XX:-UsePerfData", // no /tmp/hsperfdata_<user>/<pid> file
      "-cp",
      classpath,
      "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
      "org.apache.zookeeper.server.ZooKeeperServerMain",
      cfg,
    ],
    { detached: options.detached ?? true, stdio: ["ignore", log, log] },
  );
  closeSync(log);
  if (options.detached ?? true) child.unref();
  const pid = child.pid ?? 0;
  const exitedPromise = exited(child);

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(pid, "SIGCONT"); // a test may have frozen it
        process.kill(pid, "SIGTERM");
      } catch {
        // already gone
      }
      const killed = await Promise.race([exited(child).then(() => true), sleep(10_000).then(() => false)]);
      if (!killed) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // already gone
        }
        await exited(child);
      }
    }
    if (!keep) rmSync(dir, { recursive: true, force: true });
  };
  const failed = async (why: string): Promise<never> => {
    const log = tail(join(dir, "zk.log"));
    await stop();
    throw new Error(`zookeeper on 127.0.0.1:${port} ${why}${log ? `; the end of its log:\n${log}` : ""}`);
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null) await failed(`exited with ${child.exitCode} before serving`);
    if ((await fourLetterWord(port, "srvr", 500)).includes("Mode: standalone")) break;
    if (Date.now() > deadline) await failed(`not serving after ${options.readyTimeoutMs ?? 30_000} ms`);
    await sleep(50);
  }
  return { connect: `127.0.0.1:${port}`, pid, dir, exited: exitedPromise, stop };
}
