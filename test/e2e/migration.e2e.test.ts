/**
 * Mono → multi migration on a SQLite store, with the scheduler as its own process on the local
 * agent (tasks are real processes): the reference's scenarios 3 and 4, the manual rollback, the
 * migrated service's removal (its unlabelled reservations go with it), a dynamic scheduler
 * taking the migrated store over, a crash right after the migration, a user change refused, and
 * the whole-scheduler uninstall of a migrated store.
 */
import { describe, it } from "vitest";
import { crashAfterMigration, removeMigrated, rollback, scenario3, scenario4, thenDynamic, uninstallMigrated, userChangeRefused } from "./migration-scenarios.js";
import { dataDirsEachTest, sqliteStore } from "./modes-world.js";

const newDir = dataDirsEachTest("migration");

// Three to five scheduler processes start in each test (a few seconds here): generous for a loaded 2-core machine.
describe("mono → static migration on SQLite", () => {
  it("scenario 3: keeps hello-world's tasks (same ids, same processes), adds foobar, routes old tasks' statuses to hello-world", async () => {
    const dir = newDir();
    await scenario3(dir, sqliteStore(dir));
  }, 90_000);

  it("scenario 4: a cpu change relaunches hello-0-server with a new id; world's tasks stay", async () => {
    const dir = newDir();
    await scenario4(dir, sqliteStore(dir));
  }, 90_000);

  it("the rollback: foobar taken out, --restore-backup on the stopped store, and a mono scheduler runs the same tasks again", async () => {
    const dir = newDir();
    await rollback(dir, sqliteStore(dir));
  }, 90_000);

  it("hello-world.yml removed after the migration: hello-world goes with the mono scheduler's unlabelled reservations", async () => {
    const dir = newDir();
    await removeMigrated(dir, sqliteStore(dir));
  }, 90_000);

  it("after the migration a dynamic scheduler takes the store over: same tasks, PutService and UninstallService work", async () => {
    const dir = newDir();
    await thenDynamic(dir, sqliteStore(dir));
  }, 90_000);

  it("a hello-world file naming another user than the mono service's is refused; the tasks run on as root", async () => {
    const dir = newDir();
    await userChangeRefused(dir, sqliteStore(dir));
  }, 60_000);

  it("a crash (SIGKILL) right after the migration: the next start goes on with the same tasks", async () => {
    const dir = newDir();
    await crashAfterMigration(dir, sqliteStore(dir));
  }, 90_000);

  it("--uninstall of a migrated store removes both services, the unlabelled reservations too, and wipes the store", async () => {
    const dir = newDir();
    await uninstallMigrated(dir, sqliteStore(dir));
  }, 90_000);
});
