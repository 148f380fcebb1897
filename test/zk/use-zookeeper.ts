/** One real ZooKeeper server for the test file that calls this: started before, stopped after. */
import { afterAll, beforeAll } from "vitest";
import { startZooKeeper } from "./zk-server.js";
import type { ZooKeeperServer } from "./zk-server.js";

export function useZooKeeper(): () => ZooKeeperServer {
  let server: ZooKeeperServer | undefined;
  beforeAll(async () => {
    server = await startZooKeeper();
  }, 600_000); // a first run installs the Debian package (about 30 s)
  afterAll(async () => {
    await server?.stop();
  }, 30_000);
  return () => {
    if (!server) throw new Error("ZooKeeper is not started yet (use it inside a test)");
    return server;
  };
}
