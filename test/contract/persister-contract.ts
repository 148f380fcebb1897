/**
 * The behaviour every `Persister` must share (ports.ts). Run it for each implementation:
 *
 *   describePersisterContract("MemoryPersister", async () => new MemoryPersister());
 *
 * The factory is called once per test and must return an empty store; the suite closes it.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SchedulerError } from "../../src/domain/errors.js";
import type { ErrorCode } from "../../src/domain/errors.js";
import type { Persister, PersisterOp, Versioned } from "../../src/engine/ports.js";

const enc = new TextEncoder();
const dec = new TextDecoder();
const bytes = (s: string): Uint8Array => enc.encode(s);
const set = (path: string, value: string, version?: number): PersisterOp =>
  version === undefined
    ? { kind: "set", path, data: bytes(value) }
    : { kind: "set", path, data: bytes(value), version };
const create = (path: string, value: string): PersisterOp => ({
  kind: "create",
  path,
  data: bytes(value),
});
const del = (path: string): PersisterOp => ({ kind: "delete", path });
const check = (path: string, version: number): PersisterOp => ({ kind: "check", path, version });

async function expectCode(p: Promise<unknown>, code: ErrorCode): Promise<void> {
  const err: unknown = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected a SchedulerError ${code}`).toBeInstanceOf(SchedulerError);
  expect((err as SchedulerError).code).toBe(code);
}

export function describePersisterContract(name: string, factory: () => Promise<Persister>): void {
  describe(`Persister contract: ${name}`, () => {
    let store: Persister;
    const text = async (path: string): Promise<string | undefined> => {
      const v = await store.get(path);
      return v && dec.decode(v.data);
    };
    const version = async (path: string): Promise<number | undefined> =>
      (await store.get(path))?.version;

    beforeEach(async () => {
      store = await factory();
    });
    afterEach(async () => {
      await store.close();
    });

    describe("paths", () => {
      it.each([
        { name: "empty", path: "" },
        { name: "leading slash", path: "/a" },
        { name: "trailing slash", path: "a/" },
        { name: "empty segment", path: "a//b" },
        { name: "only a slash", path: "/" },
      ])("rejects a malformed path: $name", async ({ path }) => {
        await expectCode(store.get(path), "invalid_argument");
        await expectCode(store.children(path), "invalid_argument");
        await expectCode(store.multi([set(path, "x")]), "invalid_argument");
        await expectCode(store.multi([del(path)]), "invalid_argument");
      });

      it("reads a missing node as undefined and its children as []", async () => {
        expect(await store.get("nope")).toBeUndefined();
        expect(await store.get("nope/deeper")).toBeUndefined();
        expect(await store.children("nope")).toEqual([]);
      });

      it("creates missing parents with empty data at version 0", async () => {
        await store.multi([set("a/b/c", "leaf")]);
        for (const parent of ["a", "a/b"]) {
          const v = await store.get(parent);
          expect(v?.version).toBe(0);
          expect(v?.data.byteLength).toBe(0);
        }
        await store.multi([create("x/y", "leaf")]);
        expect(await version("x")).toBe(0);
      });
    });

    describe("versions", () => {
      it("starts at 0 on create and adds 1 per set", async () => {
        await store.multi([create("n", "v0")]);
        expect(await store.get("n")).toEqual({ data: bytes("v0"), version: 0 });
        await store.multi([set("n", "v1")]);
        await store.multi([set("n", "v2", 1)]);
        expect(await store.get("n")).toEqual({ data: bytes("v2"), version: 2 });
      });

      it("creates at version 0 when set targets a missing node without a version", async () => {
        await store.multi([set("n", "v")]);
        expect(await version("n")).toBe(0);
      });

      it("keeps children when a parent is set", async () => {
        await store.multi([set("p/c", "child"), set("p", "parent")]);
        expect(await store.children("p")).toEqual(["c"]);
        expect(await text("p/c")).toBe("child");
      });
    });

    describe("conflicts", () => {
      it("aborts a set with the wrong version and keeps the value", async () => {
        await store.multi([create("n", "v0"), set("n", "v1")]);
        await expectCode(store.multi([set("n", "stale", 0)]), "aborted");
        expect(await store.get("n")).toEqual({ data: bytes("v1"), version: 1 });
      });

      it("fails a versioned set of a missing node with not_found", async () => {
        await expectCode(store.multi([set("missing", "x", 0)]), "not_found");
        expect(await store.get("missing")).toBeUndefined();
      });

      it("fails a create of an existing node with already_exists", async () => {
        await store.multi([create("n", "first")]);
        await expectCode(store.multi([create("n", "second")]), "already_exists");
        expect(await text("n")).toBe("first");
      });

      it("passes a check at the node's version", async () => {
        await store.multi([create("n", "v0")]);
        await store.multi([check("n", 0), set("n", "v1")]);
        expect(await version("n")).toBe(1);
      });

      it("fails a version 0 check against version 1 with aborted", async () => {
        await store.multi([create("n", "v0"), set("n", "v1")]);
        await expectCode(store.multi([check("n", 0), set("other", "x")]), "aborted");
        expect(await store.get("other")).toBeUndefined();
      });

      it("fails a check of a missing node with not_found", async () => {
        await expectCode(store.multi([check("missing", 0)]), "not_found");
      });
    });

    describe("multi atomicity", () => {
      it("applies nothing when the last op fails", async () => {
        await store.multi([create("keep", "original")]);
        const ops = [
          set("keep", "changed"),
          create("new/deep/node", "x"),
          del("keep"),
          create("dup", "1"),
          create("dup", "2"),
        ];
        await expectCode(store.multi(ops), "already_exists");
        expect(await store.get("keep")).toEqual({ data: bytes("original"), version: 0 });
        expect(await store.get("new")).toBeUndefined();
        expect(await store.get("dup")).toBeUndefined();
        expect(await store.children("keep")).toEqual([]);
      });

      it("applies nothing when a middle op fails", async () => {
        await store.multi([create("a", "0")]);
        await expectCode(store.multi([set("a", "1"), set("a", "2", 7), set("b", "x")]), "aborted");
        expect(await store.get("a")).toEqual({ data: bytes("0"), version: 0 });
        expect(await store.get("b")).toBeUndefined();
      });

      it("lets later ops see earlier ones", async () => {
        await store.multi([create("n", "v0"), set("n", "v1", 0), check("n", 1), set("n", "v2", 1)]);
        expect(await store.get("n")).toEqual({ data: bytes("v2"), version: 2 });
        await store.multi([del("n"), create("n", "again"), check("n", 0)]);
        expect(await store.get("n")).toEqual({ data: bytes("again"), version: 0 });
      });

      it("accepts an empty multi", async () => {
        await store.multi([]);
        expect(await store.get("anything")).toBeUndefined();
      });
    });

    describe("concurrent multis", () => {
      it("applies each concurrent multi on its own: a conflicting one fails alone, the others land", async () => {
        await store.multi([create("n", "v0"), create("taken", "x")]);
        const results = await Promise.allSettled([
          store.multi([set("a/1", "one"), set("a/2", "two")]),
          // Fails on its last op: its first op must not land either.
          store.multi([set("b", "never"), set("n", "stale", 7)]),
          store.multi([create("c/deep", "c")]),
          store.multi([set("d", "never"), create("taken", "again")]),
          store.multi([set("n", "v1", 0), set("e", "e")]),
          store.multi([del("gone"), check("taken", 0)]),
        ]);
        expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled", "rejected", "fulfilled", "fulfilled"]);
        const code = (r: PromiseSettledResult<void>): unknown =>
          r.status === "rejected" && r.reason instanceof SchedulerError ? r.reason.code : r;
        expect(code(results[1]!)).toBe("aborted");
        expect(code(results[3]!)).toBe("already_exists");
        expect(await text("a/1")).toBe("one");
        expect(await text("a/2")).toBe("two");
        expect(await text("c/deep")).toBe("c");
        expect(await text("e")).toBe("e");
        expect(await store.get("n")).toEqual({ data: bytes("v1"), version: 1 });
        expect(await text("taken")).toBe("x");
        expect(await store.get("b")).toBeUndefined();
        expect(await store.get("d")).toBeUndefined();
      });

      it("lands every one of many concurrent multis, each resolved only once it is readable", async () => {
        const n = 200;
        await Promise.all(
          Array.from({ length: n }, async (_, i) => {
            await store.multi([set(`many/${String(i).padStart(3, "0")}`, String(i))]);
            expect(await text(`many/${String(i).padStart(3, "0")}`)).toBe(String(i));
          }),
        );
        expect(await store.children("many")).toHaveLength(n);
      });
    });

    describe("children and delete", () => {
      it("lists only direct children, sorted", async () => {
        await store.multi([
          set("dir/c", "3"),
          set("dir/a", "1"),
          set("dir/b/deep", "2"),
          set("dirx", "no"),
        ]);
        expect(await store.children("dir")).toEqual(["a", "b", "c"]);
        expect(await store.children("dir/a")).toEqual([]);
      });

      it("answers 300 children calls made at once, each its own list, [] for missing nodes", async () => {
        const ops = Array.from({ length: 200 }, (_, i) => set(`p${i}/c${i % 3}`, "x"));
        await store.multi(ops);
        await store.multi([set("p7/a", "y"), set("p7/z/deeper", "y")]);
        const lists = await Promise.all(Array.from({ length: 300 }, (_, i) => store.children(`p${i}`)));
        lists.forEach((names, i) => {
          if (i === 7) expect(names).toEqual(["a", "c1", "z"]);
          else expect(names, `p${i}`).toEqual(i < 200 ? [`c${i % 3}`] : []);
        });
      });

      it("deletes a 3-level subtree and nothing else", async () => {
        await store.multi([
          set("root/svc/a/x", "1"),
          set("root/svc/a/y", "2"),
          set("root/svc/b", "3"),
          set("root/other", "4"),
          set("root/svc2", "5"),
        ]);
        await store.multi([del("root/svc")]);
        for (const gone of ["root/svc", "root/svc/a", "root/svc/a/x", "root/svc/b"]) {
          expect(await store.get(gone), gone).toBeUndefined();
        }
        expect(await store.children("root/svc")).toEqual([]);
        expect(await store.children("root")).toEqual(["other", "svc2"]);
        expect(await text("root/svc2")).toBe("5");
      });

      it("treats deleting a missing node as success", async () => {
        await store.multi([del("never/existed")]);
        expect(await store.get("never")).toBeUndefined();
      });

      it("recreates a deleted node at version 0", async () => {
        await store.multi([create("n", "a"), set("n", "b")]);
        await store.multi([del("n")]);
        await store.multi([set("n", "c")]);
        expect(await version("n")).toBe(0);
      });
    });

    describe("getMany", () => {
      const many = (paths: readonly string[]): Promise<(Versioned | undefined)[]> => {
        expect(store.getMany, "implements getMany").toBeTypeOf("function");
        return store.getMany!(paths);
      };

      it("answers in input order, a missing node as undefined, each with its version", async () => {
        await store.multi([set("a", "A"), set("b/c", "C"), set("d", "D")]);
        await store.multi([set("d", "D2")]);
        const got = await many(["d", "nope", "b/c", "b", "a", "nope/deeper", "a"]);
        expect(got.map((v) => v && dec.decode(v.data))).toEqual(["D2", undefined, "C", "", "A", undefined, "A"]);
        expect(got.map((v) => v?.version)).toEqual([1, undefined, 0, 0, 0, undefined, 0]);
        // The same answers as get, path by path.
        for (const [i, path] of ["d", "nope", "b/c", "b", "a"].entries()) expect(got[i], path).toEqual(await store.get(path));
      });

      it("answers [] for no paths and all undefined on an empty store", async () => {
        expect(await many([])).toEqual([]);
        expect(await many(["x", "y/z"])).toEqual([undefined, undefined]);
      });

      it("rejects the call when a path is malformed", async () => {
        await store.multi([set("a", "A")]);
        await expectCode(many(["a", "b//c"]), "invalid_argument");
        await expectCode(many(["/a"]), "invalid_argument");
      });

      it("reads 1,000 paths (more than one request holds), missing ones interleaved", async () => {
        const paths = Array.from({ length: 1000 }, (_, i) => `s/n${String(i).padStart(4, "0")}`);
        const stored = paths.filter((_, i) => i % 3 !== 0);
        for (let i = 0; i < stored.length; i += 200) await store.multi(stored.slice(i, i + 200).map((p) => set(p, p)));
        const got = await many(paths);
        expect(got).toHaveLength(1000);
        got.forEach((v, i) => {
          if (i % 3 === 0) expect(v, paths[i]).toBeUndefined();
          else expect(v && dec.decode(v.data), paths[i]).toBe(paths[i]);
        });
      });

      it("reads values near the size limit, together over 1 MiB", async () => {
        const big = (fill: number): Uint8Array => new Uint8Array(900 * 1024).fill(fill);
        await store.multi([{ kind: "set", path: "big1", data: big(1) }]);
        await store.multi([{ kind: "set", path: "big2", data: big(2) }]);
        await store.multi([set("small", "s")]);
        const got = await many(["big1", "small", "big2", "gone"]);
        expect(got[0] && Buffer.from(got[0].data).equals(Buffer.from(big(1)))).toBe(true);
        expect(got[1] && dec.decode(got[1].data)).toBe("s");
        expect(got[2] && Buffer.from(got[2].data).equals(Buffer.from(big(2)))).toBe(true);
        expect(got[3]).toBeUndefined();
      });

      it("sees writes that completed before it, and does not alias what it returns", async () => {
        await store.multi([set("n", "abc")]);
        const [first] = await many(["n"]);
        first?.data.fill(0x78);
        await store.multi([set("n", "def")]);
        const [again, again2] = await many(["n", "n"]);
        expect(again && dec.decode(again.data)).toBe("def");
        again?.data.fill(0x78);
        expect(again2 && dec.decode(again2.data)).toBe("def");
        expect(await text("n")).toBe("def");
      });
    });

    describe("values", () => {
      it("rejects values over 1 MiB with invalid_argument and stores nothing", async () => {
        const big = new Uint8Array(1024 * 1024 + 1);
        await expectCode(
          store.multi([{ kind: "set", path: "big", data: big }]),
          "invalid_argument",
        );
        await expectCode(
          store.multi([{ kind: "create", path: "big", data: big }]),
          "invalid_argument",
        );
        expect(await store.get("big")).toBeUndefined();
      });

      it("accepts a 512 KiB value", async () => {
        const data = new Uint8Array(512 * 1024).fill(7);
        await store.multi([{ kind: "set", path: "large", data }]);
        const got = (await store.get("large"))?.data;
        // Compared as Buffers: deep-equal on 512 Ki array elements takes seconds.
        expect(got && Buffer.from(got).equals(Buffer.from(data))).toBe(true);
      });

      it("round-trips arbitrary bytes, including empty values", async () => {
        const data = Uint8Array.from([0, 255, 1, 128, 0]);
        await store.multi([
          { kind: "create", path: "bin", data },
          { kind: "create", path: "empty", data: new Uint8Array() },
        ]);
        expect((await store.get("bin"))?.data).toEqual(data);
        expect((await store.get("empty"))?.data.byteLength).toBe(0);
      });

      it("does not alias the caller's bytes on write or read", async () => {
        const data = bytes("abc");
        await store.multi([{ kind: "set", path: "n", data }]);
        data[0] = 0x7a;
        const first = await store.get("n");
        expect(dec.decode(first?.data)).toBe("abc");
        first?.data.fill(0x78);
        expect(await text("n")).toBe("abc");
      });
    });
  });
}
