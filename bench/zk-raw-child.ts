/**
 * The floor of bench (d): raw parallel setData on a ZooKeeper server with node-zookeeper-client
 * alone (no Corral code loaded, so none of Corral's transport patches), as in toolchain §6.
 * `patched` loads Corral's ZooKeeper adapter first, i.e. its transport patches (guard.ts).
 * Prints one JSON line {rate, n, bytes}.
 * Usage: node --import tsx bench/zk-raw-child.ts host:port [n=10000] [bytes=280] [plain|patched]
 */
import zookeeper from "node-zookeeper-client";

const [connect, nArg, bytesArg, mode] = process.argv.slice(2);
const n = Number(nArg ?? 10_000);
const bytes = Number(bytesArg ?? 280);
const NODES = 1000;
if (mode === "patched") await import("../src/adapters/persister/zookeeper/session.js");

const client = zookeeper.createClient(connect!, { sessionTimeout: 10_000, retries: 0 });
await new Promise<void>((resolve) => {
  client.once("connected", () => resolve());
  client.connect();
});
const call = (f: (cb: (err: unknown) => void) => void): Promise<void> =>
  new Promise((resolve, reject) => f((err) => (err ? reject(err) : resolve())));
const root = `/bench-raw-${process.pid}-${mode ?? "plain"}`;
await call((cb) => client.mkdirp(root, cb));
const data = Buffer.alloc(bytes, 120);
await Promise.all(Array.from({ length: NODES }, (_, i) => call((cb) => client.create(`${root}/n${i}`, data, cb))));
// Warm-up, then the measured run: n setData issued at once (pipelined on the one connection).
await Promise.all(Array.from({ length: 1000 }, (_, i) => call((cb) => client.setData(`${root}/n${i % NODES}`, data, -1, cb))));
const t = performance.now();
await Promise.all(Array.from({ length: n }, (_, i) => call((cb) => client.setData(`${root}/n${i % NODES}`, data, -1, cb))));
const ms = performance.now() - t;
process.stdout.write(`${JSON.stringify({ rate: n / (ms / 1000), n, bytes, ms })}\n`);
client.close();
process.exit(0);
