/**
 * The CLI's connection to the scheduler — or to the replicas of a replicated one (`--server
 * a,b,c`): the typed admin client, which sends every call to the leader, with the credentials,
 * bearer token and deadline the global options ask for. Every call goes through
 * `unary`/`stream`/`follow`, which tag failures with the RPC name and the addresses tried for
 * `errors.ts`. `follow` is for the event streams (WatchUninstall, WatchPlans): they resume at the
 * new leader after the last sequence seen, so a failover is a pause, not an error.
 */
import { readFileSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";
import { callTrail, createAdminClient } from "../client/index.js";
import type { AdminClient, CallOptions, FollowOptions } from "../client/index.js";
import { CliError, EXIT, RpcError, isServiceError } from "./errors.js";

export interface ConnectionOptions {
  /** "host:port" of the scheduler, or of each replica, comma-separated. */
  readonly server: string;
  /** Deadline of each unary call. */
  readonly deadlineMs: number;
  /** File holding a bearer token, sent as `authorization: Bearer <token>`. */
  readonly tokenFile?: string;
  /** PEM files; any of them switches the channel to TLS. */
  readonly tlsCa?: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  /** Aborted on Ctrl-C: running calls are cancelled. */
  readonly signal?: AbortSignal;
  /** Tells the user something on stderr that scripts need not parse (a change of leader). */
  readonly notice?: (text: string) => void;
}

/** How long a broken event stream is issued again without an answer before the command fails with its error. */
export const RECONNECT_FOR_MS = 60_000;

export class Connection {
  readonly address: string;
  readonly #admin: AdminClient;
  readonly #options: ConnectionOptions;
  readonly #token: string | undefined;

  constructor(options: ConnectionOptions) {
    this.address = options.server;
    this.#options = options;
    this.#token = options.tokenFile === undefined ? undefined : readToken(options.tokenFile);
    const notice = options.notice;
    this.#admin = createAdminClient({
      address: options.server,
      credentials: credentialsOf(options),
      ...(notice === undefined ? {} : { onLeaderChange: (to: string) => notice(`leader changed; continuing at ${to}`) }),
    });
  }

  /** The address that answered last: the leader, with replicas. */
  get answeredBy(): string {
    return this.#admin.leader ?? this.address;
  }

  /** Runs one unary call with the deadline and metadata; failures become RpcError. */
  async unary<T>(rpc: string, call: (admin: AdminClient, options: CallOptions) => Promise<T>): Promise<T> {
    try {
      return await call(this.#admin, this.#callOptions(this.#options.deadlineMs));
    } catch (err) {
      throw this.#tag(rpc, err, this.#options.deadlineMs);
    }
  }

  /**
   * Iterates a server stream (no deadline: it lasts as long as the caller wants). `signal`
   * cancels this one stream (besides Ctrl-C): a caller that stops waiting on it ends it at once,
   * without waiting for its next message.
   */
  async *stream<T>(rpc: string, call: (admin: AdminClient, options: CallOptions) => AsyncIterable<T>, signal?: AbortSignal): AsyncGenerator<T> {
    try {
      yield* call(this.#admin, this.#callOptions(undefined, signal));
    } catch (err) {
      throw this.#tag(rpc, err, undefined);
    }
  }

  /**
   * Iterates a resuming event stream (`followUninstall`, `followPlans`): a break is not an error
   * while a scheduler takes the stream up again within RECONNECT_FOR_MS; `signal` as for `stream`.
   */
  async *follow<T>(rpc: string, call: (admin: AdminClient, options: FollowOptions) => AsyncIterable<T>, signal?: AbortSignal): AsyncGenerator<T> {
    try {
      yield* call(this.#admin, { ...this.#callOptions(undefined, signal), reconnectForMs: RECONNECT_FOR_MS });
    } catch (err) {
      throw this.#tag(rpc, err, undefined);
    }
  }

  close(): void {
    this.#admin.close();
  }

  #callOptions(deadlineMs: number | undefined, callSignal?: AbortSignal): CallOptions {
    const metadata = new grpc.Metadata();
    if (this.#token !== undefined) metadata.set("authorization", `Bearer ${this.#token}`);
    const signals = [this.#options.signal, callSignal].filter((s): s is AbortSignal => s !== undefined);
    const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
    return {
      metadata,
      ...(deadlineMs === undefined ? {} : { deadlineMs }),
      ...(signal === undefined ? {} : { signal }),
    };
  }

  #tag(rpc: string, err: unknown, deadlineMs: number | undefined): unknown {
    if (!isServiceError(err)) return err;
    const trail = callTrail(err);
    return new RpcError(rpc, trail?.address ?? this.#admin.leader ?? this.address, err, deadlineMs, trail?.tried ?? []);
  }
}

function readToken(file: string): string {
  const token = readLocal(file, "--token-file").toString("utf8").trim();
  if (token === "") throw new CliError(`--token-file ${file} is empty`, EXIT.INVALID);
  return token;
}

function credentialsOf(o: ConnectionOptions): grpc.ChannelCredentials {
  if (o.tlsCa === undefined && o.tlsCert === undefined && o.tlsKey === undefined) return grpc.credentials.createInsecure();
  if ((o.tlsCert === undefined) !== (o.tlsKey === undefined)) {
    throw new CliError("--tls-cert and --tls-key go together", EXIT.INVALID);
  }
  const read = (file: string | undefined, flag: string): Buffer | null => (file === undefined ? null : readLocal(file, flag));
  return grpc.credentials.createSsl(read(o.tlsCa, "--tls-ca"), read(o.tlsKey, "--tls-key"), read(o.tlsCert, "--tls-cert"));
}

function readLocal(file: string, flag: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new CliError(`cannot read ${flag} ${file}: ${(err as Error).message}`);
  }
}
