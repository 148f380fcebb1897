/**
 * The SQLite store settles a write only once an fsync of its WAL that started after the COMMIT
 * has returned, and a read only once what it saw is on disk. The fsync is replaced by one the
 * test completes by hand (the real one is what every other SQLite test runs on).
 */
import { fsync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../../test/use-temp-dir.js";
import { SqlitePersister } from "./sqlite-persister.js";
import type { FsyncFn } from "./wal-sync.js";

const root = tempDir("wal-sync");
let n = 0;
const freshFile = (): string => join(root, `t${++n}`, "corral.db");
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** An fsync that waits for `finish()`; a real fsync runs first so the file is what it says. */
function handFsync(): { fsync: FsyncFn; pending(): number; finish(err?: NodeJS.ErrnoException): Promise<void> } {
  const waiting: ((err: NodeJS.ErrnoException | null) => void)[] = [];
  return {
    fsync: (fd, done) => waiting.push((err) => (err ? done(err) : fsync(fd, done))),
    pending: () => waiting.length,
    finish: async (err) => {
      waiting.shift()!(err ?? null);
      await new Promise((resolve) => setTimeout(resolve, 20));
    },
  };
}

/** Whether `p` has settled by now. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  await turn();
  return done;
}

describe("SqlitePersister durability (WAL fsync off the event loop)", () => {
  it("settles a write, and a read that saw it, only after the fsync that covers it", async () => {
    const disk = handFsync();
    const store = SqlitePersister.open(freshFile(), { fsync: disk.fsync });
    try {
      const write = store.multi([{ kind: "set", path: "a", data: enc("1") }]);
      await turn();
      expect(store.commits).toBe(1);
      expect(disk.pending()).toBe(1);
      const read = store.get("a");
      expect(await settled(write)).toBe(false);
      expect(await settled(read)).toBe(false);
      await disk.finish();
      await write;
      expect((await read)?.version).toBe(0);
      // Nothing new since: a read needs no fsync.
      expect((await store.get("a"))?.version).toBe(0);
      expect(disk.pending()).toBe(0);
    } finally {
      await store.close();
    }
  });

  it("covers the commits made while an fsync runs with the next one", async () => {
    const disk = handFsync();
    const store = SqlitePersister.open(freshFile(), { fsync: disk.fsync });
    try {
      const first = store.multi([{ kind: "set", path: "a", data: enc("1") }]);
      await turn();
      const second = store.multi([{ kind: "set", path: "b", data: enc("2") }]);
      await turn();
      const third = store.multi([{ kind: "set", path: "c", data: enc("3") }]);
      await turn();
      expect(store.commits).toBe(3);
      expect(disk.pending()).toBe(1);
      await disk.finish();
      await first;
      expect(await settled(second)).toBe(false);
      expect(disk.pending()).toBe(1);
      await disk.finish();
      await Promise.all([second, third]);
      expect(store.wal?.syncs).toBe(2);
    } finally {
      await store.close();
    }
  });

  it("takes no more writes or reads once an fsync failed: what was waiting fails, nothing is told done", async () => {
    const disk = handFsync();
    const store = SqlitePersister.open(freshFile(), { fsync: disk.fsync });
    try {
      const write = store.multi([{ kind: "set", path: "a", data: enc("1") }]);
      write.catch(() => undefined);
      await turn();
      await disk.finish(Object.assign(new Error("EIO: i/o error, fsync"), { code: "EIO" }));
      const refusal = { code: "unavailable", message: expect.stringMatching(/fsync of .*corral\.db-wal failed \(EIO: i\/o error, fsync\)/) };
      await expect(write).rejects.toMatchObject(refusal);
      await expect(store.multi([{ kind: "set", path: "b", data: enc("2") }])).rejects.toMatchObject(refusal);
      await expect(store.get("a")).rejects.toMatchObject(refusal);
    } finally {
      await store.close();
    }
  });

  it("syncs what is left when closed, so a reopened store has every settled write", async () => {
    const file = freshFile();
    const disk = handFsync();
    const store = SqlitePersister.open(file, { fsync: disk.fsync });
    const write = store.multi([{ kind: "set", path: "a", data: enc("1") }]);
    await turn();
    expect(disk.pending()).toBe(1);
    const closing = store.close();
    await disk.finish();
    await closing;
    await write;
    const again = SqlitePersister.open(file);
    try {
      expect((await again.get("a"))?.data).toEqual(enc("1"));
    } finally {
      await again.close();
    }
  });
});
