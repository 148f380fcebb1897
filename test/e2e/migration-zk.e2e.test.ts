/**
 * Mono → multi migration on a real ZooKeeper store (each test its own chroot), with the
 * scheduler as its own process on the local agent: the reference's scenarios 3 and 4, and the
 * manual rollback.
 */
import { describe, it } from "vitest";
import { useZooKeeper } from "../zk/use-zookeeper.js";
import { crashAfterMigration, rollback, scenario3, scenario4 } from "./migration-scenarios.js";
import { dataDirsEachTest, zkStore } from "./modes-world.js";

const zk = useZooKeeper();
const newDir = dataDirsEachTest("migration-zk");

describe("mono → static migration on ZooKeeper", () => {
  it("scenario 3: keeps hello-world's tasks (same ids, same processes), adds foobar, routes old tasks' statuses to hello-world", async () => {
    await scenario3(newDir(), zkStore(zk().connect));
  }, 90_000);

  it("scenario 4: a cpu change relaunches hello-0-server with a new id; world's tasks stay", async () => {
    await scenario4(newDir(), zkStore(zk().connect));
  }, 90_000);

  it("the rollback: foobar taken out, --restore-backup on the stopped store, and a mono scheduler runs the same tasks again", async () => {
    await rollback(newDir(), zkStore(zk().connect));
  }, 90_000);

  it("a crash (SIGKILL) right after the migration: the next start goes on with the same tasks", async () => {
    await crashAfterMigration(newDir(), zkStore(zk().connect));
  }, 90_000);
});
