/**
 * One subscription's event stream (mesos-v1-api.md §2, §3): a `200` chunked response of
 * RecordIO-framed JSON events with the subscription's `Mesos-Stream-Id`, heartbeats every
 * `heartbeat_interval_seconds` once SUBSCRIBED is out, and the chaos knobs that shape the writes
 * (records split at random and coalesced, a stalled stream, every UPDATE twice).
 */
import type { ServerResponse } from "node:http";
import type { Cancel, Clock } from "../../../engine/ports.js";
import { encodeRecord, splitRandomly } from "../mesos/recordio.js";
import type { ChaosKnobs } from "./chaos.js";
import { encodeEvent, type AgentEvent } from "./event-codec.js";

export interface EventStreamOptions {
  readonly streamId: string;
  readonly clock: Clock;
  readonly heartbeatIntervalS: number;
  readonly chaos: () => ChaosKnobs;
  /** The client went away (or the connection was dropped): not called when we end the stream. */
  readonly onLost: () => void;
}

export class EventStream {
  private ended = false;
  private heartbeat: Cancel | undefined;
  /** Records waiting for the split-records flush. */
  private pending: Uint8Array[] = [];
  private flushing = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly o: EventStreamOptions,
  ) {
    res.writeHead(200, { "Content-Type": "application/json", "Mesos-Stream-Id": o.streamId, "Cache-Control": "no-cache" });
    res.flushHeaders();
    res.on("close", () => {
      if (this.ended) return;
      this.ended = true;
      this.stopHeartbeats();
      o.onLost();
    });
  }

  get streamId(): string {
    return this.o.streamId;
  }

  get open(): boolean {
    return !this.ended;
  }

  send(event: AgentEvent): void {
    if (this.ended) return;
    const chaos = this.o.chaos();
    if (chaos.stall) return; // the connection stays up, nothing arrives: the client's watchdog must notice
    const record = encodeRecord(Buffer.from(JSON.stringify(encodeEvent(event)), "utf8"));
    const copies = event.kind === "update" && chaos.duplicateUpdates ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      if (chaos.splitRecords) this.queueSplit(record);
      else this.res.write(record);
    }
  }

  /** SUBSCRIBED, a HEARTBEAT at once, then one every interval (§2 step 4). */
  subscribed(event: Extract<AgentEvent, { kind: "subscribed" }>): void {
    this.send(event);
    this.send({ kind: "heartbeat" });
    this.armHeartbeat();
  }

  /** Ends the stream from our side (ERROR sent, failed over, torn down); `onLost` is not called. */
  end(): void {
    if (this.ended) return;
    this.flush();
    this.ended = true;
    this.stopHeartbeats();
    this.res.end();
  }

  /** Drops the connection as a network failure would (chaos `drop_streams`): the framework is disconnected. */
  drop(): void {
    if (this.ended) return;
    this.res.destroy();
  }

  private armHeartbeat(): void {
    this.stopHeartbeats();
    this.heartbeat = this.o.clock.setTimer(this.o.heartbeatIntervalS * 1000, () => {
      this.heartbeat = undefined;
      if (this.ended) return;
      this.send({ kind: "heartbeat" });
      this.armHeartbeat();
    });
  }

  private stopHeartbeats(): void {
    this.heartbeat?.();
    this.heartbeat = undefined;
  }

  /** Coalesces this turn's records and writes them cut at random places. */
  private queueSplit(record: Uint8Array): void {
    this.pending.push(record);
    if (this.flushing) return;
    this.flushing = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushing = false;
    if (this.pending.length === 0 || this.ended) return;
    const all = Buffer.concat(this.pending);
    this.pending = [];
    for (const chunk of splitRandomly(all, Math.random, 48)) this.res.write(chunk);
  }
}
