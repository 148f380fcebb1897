/**
 * Replies much larger than one socket read (guard.ts keeps their chunks and joins them once):
 * plain getData and multiRead replies of hundreds of KiB to several MiB, pipelined with small
 * calls on the same connection, come back whole and in the right places.
 */
import { describe, expect, it } from "vitest";
import { ZooKeeperPersister, ZK_MAX_VALUE_BYTES } from "../../src/adapters/persister/zookeeper/zookeeper-persister.js";
import { useZooKeeper } from "./use-zookeeper.js";

const zk = useZooKeeper();

/** `size` bytes that differ by position and by `seed`, so a misplaced chunk shows. */
function value(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + seed * 7 + (i >> 10)) & 0xff;
  return out;
}

/** Byte equality (toEqual compares a MiB element by element, slowly). */
function same(got: { data: Uint8Array } | undefined, want: Uint8Array): boolean {
  return got !== undefined && Buffer.from(got.data).equals(Buffer.from(want));
}

describe("large ZooKeeper replies", () => {
  it("arrive whole, among small ones, through getData and multiRead", async () => {
    const store = await ZooKeeperPersister.open(`${zk().connect}/corral-large-${process.pid}`, { sessionTimeoutMs: 4000 });
    try {
      const sizes = [ZK_MAX_VALUE_BYTES, 700_000, 65_536, 65_535, 131_073, 1, 0];
      for (const [i, size] of sizes.entries()) await store.multi([{ kind: "set", path: `big/v${i}`, data: value(size, i) }]);
      await store.multi([{ kind: "set", path: "small", data: value(10, 99) }]);

      const paths = sizes.map((_, i) => `big/v${i}`);
      // Several multiRead replies (one holds ~2.8 MiB) and plain calls, all in flight at once.
      const [many, again, one, small, listed] = await Promise.all([
        store.getMany([...paths, "small", "missing"]),
        store.getMany([...paths].reverse()),
        store.get("big/v0"),
        store.get("small"),
        store.children("big"),
      ]);
      sizes.forEach((size, i) => {
        expect(same(many[i], value(size, i))).toBe(true);
        expect(same(again[sizes.length - 1 - i], value(size, i))).toBe(true);
      });
      expect(same(many[sizes.length], value(10, 99))).toBe(true);
      expect(many[sizes.length + 1]).toBeUndefined();
      expect(same(one, value(ZK_MAX_VALUE_BYTES, 0))).toBe(true);
      expect(same(small, value(10, 99))).toBe(true);
      expect(listed).toEqual(paths.map((p) => p.slice("big/".length)).sort());
    } finally {
      await store.close();
    }
  }, 60_000);
});
