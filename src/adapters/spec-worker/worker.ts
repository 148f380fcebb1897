/**
 * A spec-build worker thread (started by `pool.ts`): runs the same deterministic
 * `createSpecServiceFactory().build(context)` as the main thread, with its own template and
 * YAML caches, then PutService's context size check (`encodeContext`), and answers each request
 * with the BuiltService or the flattened error.
 */
import { parentPort } from "node:worker_threads";
import { encodeContext } from "../../engine/service-context.js";
import { createSpecServiceFactory } from "../../engine/service-factory.js";
import type { BuildRequest, WorkerReply } from "./protocol.js";
import { toWireError } from "./protocol.js";

const port = parentPort;
if (!port) throw new Error("spec-worker/worker.ts runs only as a worker thread (see pool.ts)");

const factory = createSpecServiceFactory();

port.on("message", (req: BuildRequest) => {
  const started = performance.now();
  let reply: WorkerReply;
  try {
    const built = factory.build(req.context);
    // PutService's size check, here rather than on the event loop: encoding a 1 MiB context of
    // 36,000 parameters takes tens of ms. A context that fits is encoded again when stored.
    encodeContext(req.context);
    reply = { kind: "built", id: req.id, built, ms: performance.now() - started };
  } catch (err) {
    reply = { kind: "failed", id: req.id, error: toWireError(err), ms: performance.now() - started };
  }
  try {
    port.postMessage(reply);
  } catch (err) {
    // A result that does not survive structured clone is a bug of ours: say so, never hang.
    port.postMessage({ kind: "failed", id: req.id, error: toWireError(err), ms: reply.ms } satisfies WorkerReply);
  }
});

port.postMessage({ kind: "ready" } satisfies WorkerReply);
