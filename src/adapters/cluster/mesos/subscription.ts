/**
 * One SUBSCRIBE connection (mesos-v1-api.md §2–§4): the POST, its answer (a stream, a 307 to
 * follow, or a refusal), then the RecordIO event stream read as raw bytes, each record decoded
 * into a MesosEvent. A watchdog on the Clock is reset by every record; when it runs out the
 * connection is taken for dead (a partition sends no reset) and aborted. The stream ending in any
 * way is reported once through `onClose`; `close()` by the owner reports nothing.
 */
import type { IncomingMessage } from "node:http";
import type { Cancel, Clock, Logger } from "../../../engine/ports.js";
import type { Decoded } from "./json-codec.js";
import { decodeEventText, type MesosEvent } from "./json-codec-events.js";
import { RecordIODecoder } from "./recordio.js";
import { redirectTarget, type Endpoint, type Transport } from "./transport.js";

export const SCHEDULER_PATH = "/api/v1/scheduler";

/** Missed heartbeats after which a silent stream is dead (the proto's advice, §4). */
export const MISSED_HEARTBEATS = 5;

/** What a SUBSCRIBE POST got. */
export type SubscribeAnswer =
  | { readonly kind: "stream"; readonly stream: EventStream }
  | { readonly kind: "redirect"; readonly to: Endpoint }
  /** Any other status: 503 (no leader, recovering), 401, 400… with the body's text. */
  | { readonly kind: "refused"; readonly status: number; readonly message: string };

export interface SubscribeRequest {
  readonly transport: Transport;
  readonly endpoint: Endpoint;
  readonly body: string;
  readonly clock: Clock;
  readonly log: Logger;
  /** How long the head of the answer, and then the first record, may take. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/** POSTs SUBSCRIBE; rejects (unavailable) only when no HTTP answer came at all. */
export async function postSubscribe(req: SubscribeRequest): Promise<SubscribeAnswer> {
  const { response, abort } = await req.transport.open(req.endpoint, SCHEDULER_PATH, {
    method: "POST",
    body: req.body,
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    timeoutMs: req.timeoutMs,
    ...(req.signal !== undefined ? { signal: req.signal } : {}),
  });
  const status = response.statusCode ?? 0;
  if (status === 200) {
    const streamId = headerOf(response, "mesos-stream-id");
    if (streamId === undefined) req.log.warn({}, "SUBSCRIBE answered without a Mesos-Stream-Id header; calls will be refused");
    return { kind: "stream", stream: new EventStream(response, abort, streamId, req) };
  }
  const text = await readSome(response, req.clock, req.timeoutMs).finally(abort);
  if (status === 307) {
    const location = headerOf(response, "location");
    if (location !== undefined) return { kind: "redirect", to: redirectTarget(req.endpoint, location, SCHEDULER_PATH) };
  }
  return { kind: "refused", status, message: text.trim() || (response.statusMessage ?? `HTTP ${status}`) };
}

export interface StreamHandlers {
  /** One decoded event (or the decode failure of one record), in stream order. */
  onEvent(event: Decoded<MesosEvent>): void;
  /** The stream ended, failed or went silent; called at most once, never after `close()`. */
  onClose(reason: string): void;
}

/** A subscription's event stream; `start` begins reading. */
export class EventStream {
  private readonly decoder = new RecordIODecoder();
  private readonly text = new TextDecoder("utf-8");
  private handlers: StreamHandlers | undefined;
  private watchdog: Cancel | undefined;
  private silenceMs: number;
  private ended = false;

  constructor(
    private readonly response: IncomingMessage,
    private readonly abort: () => void,
    /** The `Mesos-Stream-Id` every other call carries (§2 step 5). */
    readonly streamId: string | undefined,
    private readonly req: SubscribeRequest,
  ) {
    this.silenceMs = req.timeoutMs;
  }

  start(handlers: StreamHandlers): void {
    this.handlers = handlers;
    this.arm();
    this.response.on("data", (chunk: Buffer) => this.push(chunk));
    this.response.once("end", () => {
      try {
        this.decoder.end();
        this.finish("the master closed the event stream");
      } catch (err) {
        this.finish(`the event stream broke: ${(err as Error).message}`);
      }
    });
    this.response.once("error", (err) => this.finish(`the event stream failed: ${err.message}`));
    this.response.once("close", () => this.finish("the event stream's connection closed"));
  }

  /** After SUBSCRIBED: the stream is dead after MISSED_HEARTBEATS intervals without a record. */
  setHeartbeatInterval(seconds: number): void {
    this.silenceMs = Math.max(1, seconds * 1000 * MISSED_HEARTBEATS);
    this.arm();
  }

  /** Aborts the connection without reporting it. */
  close(): void {
    this.ended = true;
    this.watchdog?.();
    this.abort();
  }

  /** Aborts the connection and reports `reason` as its end. */
  fail(reason: string): void {
    this.finish(reason);
  }

  private push(chunk: Buffer): void {
    if (this.ended) return;
    this.arm();
    try {
      this.decoder.push(chunk, (record) => {
        if (!this.ended) this.handlers?.onEvent(decodeEventText(this.text.decode(record), this.req.clock.now()));
      });
    } catch (err) {
      this.finish(`the event stream broke: ${(err as Error).message}`);
    }
  }

  private arm(): void {
    this.watchdog?.();
    const ms = this.silenceMs;
    this.watchdog = this.req.clock.setTimer(ms, () => this.finish(`no event from the master for ${ms} ms`));
  }

  private finish(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.watchdog?.();
    this.abort();
    this.handlers?.onClose(reason);
  }
}

function headerOf(res: IncomingMessage, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The first few KB of a refusal's body, for the message. */
function readSome(res: IncomingMessage, clock: Clock, timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let size = 0;
    const done = (): void => {
      cancel();
      resolve(Buffer.concat(parts).toString("utf8").slice(0, 2000));
    };
    const cancel = clock.setTimer(timeoutMs, done);
    res.on("data", (c: Buffer) => {
      if (size < 4096) parts.push(c);
      size += c.length;
    });
    res.once("end", done);
    res.on("error", done);
    res.once("close", done);
  });
}
