/**
 * `npm run zookeeper`: a local standalone ZooKeeper for trying `--store zk://…`, from Debian's
 * `zookeeper` package (installed with apt when missing, as the tests do: needs root), on
 * 127.0.0.1:2181, with its config, log and data in ./.corral-zk (kept between runs). Ctrl-C or
 * SIGTERM stops it.
 *
 *   npm run zookeeper                      # 127.0.0.1:2181, ./.corral-zk
 *   npm run zookeeper -- --port 2182 --dir /var/tmp/zk
 *   npm start -- --store zk://127.0.0.1:2181/corral    # in a second terminal
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { startZooKeeper } from "./zk-server.js";

const USAGE = `usage: npm run zookeeper -- [--port N] [--dir DIR]
  --port N    client port on 127.0.0.1 (default 2181)
  --dir DIR   zoo.cfg, zk.log and data/ (default ./.corral-zk, kept between runs)`;

function fail(message: string): never {
  console.error(`zookeeper: ${message}`);
  process.exit(1);
}

/** The pid in DIR/zk.pid when that process still runs ZooKeeper (a server left running), else undefined. */
function runningPid(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, "utf8").trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("ZooKeeperServerMain") ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Whether 127.0.0.1:port can be listened on right now. */
function portFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const srv = createServer();
    srv.once("error", () => done(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => done(true)));
  });
}

async function main(): Promise<void> {
  let values: { port?: string; dir?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: { port: { type: "string", default: "2181" }, dir: { type: "string", default: ".corral-zk" }, help: { type: "boolean", short: "h" } },
      strict: true,
    }));
  } catch (err) {
    fail(`${(err as Error).message}\n${USAGE}`);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`--port must be 1-65535, got ${JSON.stringify(values.port)}`);
  const dir = resolve(values.dir ?? ".corral-zk");
  const pidFile = join(dir, "zk.pid");
  const left = runningPid(pidFile);
  if (left !== undefined) fail(`a ZooKeeper already runs on ${dir} (pid ${left}); stop it first: kill ${left}`);
  if (!(await portFree(port))) fail(`127.0.0.1:${port} is in use (a ZooKeeper already running?); choose another with --port`);

  console.log(`zookeeper: starting on 127.0.0.1:${port}, files in ${dir} (a first run installs Debian's zookeeper package with apt, about 30 s)`);
  let zk;
  try {
    // In this process group: Ctrl-C in the terminal reaches java too, even if this process dies.
    zk = await startZooKeeper({ port, dir, readyTimeoutMs: 60_000, detached: false });
  } catch (err) {
    fail((err as Error).message);
  }
  const server = zk;
  writeFileSync(pidFile, `${server.pid}\n`);
  console.log(`zookeeper: serving on ${server.connect} (pid ${server.pid}, log ${resolve(dir, "zk.log")}); Ctrl-C stops it`);
  console.log(`try:  npm start -- --store zk://${server.connect}/corral`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    console.log(`zookeeper: ${signal}, stopping`);
    server.stop().then(
      () => {
        rmSync(pidFile, { force: true });
        console.log("zookeeper: stopped");
        process.exit(0);
      },
      (err: unknown) => fail(`stopping: ${String(err)}`),
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  process.on("SIGHUP", stop);
  await server.exited;
  if (!stopping) fail(`the server (pid ${server.pid}) exited on its own; see ${resolve(dir, "zk.log")}`);
}

main().catch((err: unknown) => fail(String(err)));
