/**
 * The MultiServiceAdmin client of a (possibly replicated) Corral: every call goes to the leader
 * (leader-router.ts, with the retry rule of retry-rule.ts), and `followUninstall` / `followPlans`
 * are WatchUninstall / WatchPlans that survive a change of leader (follow-stream.ts).
 */
import * as grpc from "@grpc/grpc-js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { MultiServiceAdmin } from "../../gen/corral/v1/admin_pb.js";
import type { WatchPlansRequestSchema, WatchPlansResponse, WatchUninstallRequestSchema, WatchUninstallResponse } from "../../gen/corral/v1/admin_pb.js";
import { parseAddresses } from "./addresses.js";
import { resuming } from "./follow-stream.js";
import type { FollowOptions } from "./follow-stream.js";
import { LeaderRouter } from "./leader-router.js";
import { connected, createPromiseClient } from "./promise-client.js";
import type { CallOptions, PromiseClient } from "./promise-client.js";

type Admin = PromiseClient<typeof MultiServiceAdmin>;

/** The MultiServiceAdmin client. */
export type AdminClient = Admin & {
  /**
   * WatchUninstall that resumes after the last sequence seen when the stream breaks (the leader
   * died or stepped down), at whichever scheduler leads then, until `signal` aborts; each event
   * comes once. With `names` it ends once every named removal has ended, as WatchUninstall does.
   */
  followUninstall(request: MessageInitShape<typeof WatchUninstallRequestSchema>, options?: FollowOptions): AsyncIterable<WatchUninstallResponse>;
  /** WatchPlans that resumes the same way; it ends only when `signal` aborts (or with an error it cannot resume from). */
  followPlans(request: MessageInitShape<typeof WatchPlansRequestSchema>, options?: FollowOptions): AsyncIterable<WatchPlansResponse>;
  /** The scheduler addresses this client calls. */
  readonly addresses: readonly string[];
  /** The address that answered last (the leader, as far as this client knows); undefined before any answer. */
  readonly leader: string | undefined;
};

export interface AdminClientOptions {
  /** "host:port" of a Corral scheduler, or of each replica: "a:7070,b:7070,c:7070". */
  readonly address?: string;
  /** The replicas' "host:port" as a list (joined with `address`, if both are given). */
  readonly addresses?: readonly string[];
  /**
   * @default insecure (plaintext). For a scheduler with mutual TLS:
   * `grpc.credentials.createSsl(caPem, clientKeyPem, clientCertPem)`.
   */
  readonly credentials?: grpc.ChannelCredentials;
  /** Deadline of unary calls that pass none, for all their attempts together. @default none */
  readonly defaultDeadlineMs?: number;
  /** Bearer token for a scheduler started with --auth-token-file. @default none */
  readonly token?: string;
  /** grpc-js channel options of every channel. */
  readonly channelOptions?: grpc.ChannelOptions;
  /** Attempts of one call at most (redirects and other addresses). @default 2 × addresses + 2 */
  readonly maxHops?: number;
  /** A call was answered by another scheduler than the one that answered before: the leader changed. */
  readonly onLeaderChange?: (address: string, previous: string) => void;
  /**
   * With several addresses: how long an attempt waits for a connection to an address before it
   * tries the next (nothing was sent). @default 3000
   */
  readonly connectTimeoutMs?: number;
}

/**
 * Keepalive pings while calls run: a leader that stops answering without closing its connections
 * (a frozen process, a host cut off) fails its calls and streams UNAVAILABLE within about ten
 * seconds — a resuming stream then goes on at the new leader instead of waiting for ever. The
 * grpc-js server answers pings without limits; `channelOptions` override these.
 */
const KEEPALIVE: grpc.ChannelOptions = { "grpc.keepalive_time_ms": 5_000, "grpc.keepalive_timeout_ms": 5_000 };

export function createAdminClient(options: AdminClientOptions): AdminClient {
  const addresses = parseAddresses(options.address, options.addresses);
  const open = (address: string): Admin =>
    createPromiseClient(MultiServiceAdmin, address, options.credentials ?? grpc.credentials.createInsecure(), {
      ...(options.token === undefined ? {} : { token: options.token }),
      channelOptions: { ...KEEPALIVE, ...options.channelOptions },
    });
  const router = new LeaderRouter(addresses, open, {
    ...(options.maxHops === undefined ? {} : { maxHops: options.maxHops }),
    ...(options.onLeaderChange === undefined ? {} : { onLeaderChange: options.onLeaderChange }),
  });
  const several = addresses.length > 1;
  const connectTimeoutMs = options.connectTimeoutMs ?? 3_000;
  const client: Record<string, unknown> = { close: () => router.close(), addresses };
  Object.defineProperty(client, "leader", { get: () => router.leader, enumerable: true });
  for (const method of MultiServiceAdmin.methods) {
    const name = method.localName;
    const of = (admin: Admin) => admin[name as keyof Admin] as unknown as (request: unknown, options: CallOptions) => never;
    if (method.methodKind === "unary") {
      client[name] = (request: unknown, opts: CallOptions = {}) => {
        const deadlineMs = opts.deadlineMs ?? options.defaultDeadlineMs;
        return router.call(name, async (admin, _address, remainingMs) => {
          if (several) await connected(admin, Math.min(connectTimeoutMs, remainingMs ?? connectTimeoutMs));
          return of(admin)(request, withDeadline(opts, remainingMs));
        }, {
          ...(deadlineMs === undefined ? {} : { deadlineMs }),
          ...(opts.signal === undefined ? {} : { signal: opts.signal }),
        });
      };
    } else if (method.methodKind === "server_streaming") {
      client[name] = (request: unknown, opts: CallOptions = {}) =>
        router.stream(name, (admin) => (several ? afterConnect(admin, connectTimeoutMs, () => of(admin)(request, opts)) : of(admin)(request, opts)), opts.signal);
    }
  }
  const admin = client as AdminClient;
  client["followUninstall"] = (request: MessageInitShape<typeof WatchUninstallRequestSchema>, opts: FollowOptions = {}) =>
    resuming((after, call) => admin.watchUninstall({ ...request, after }, call), request.after ?? 0n, (request.names?.length ?? 0) > 0, opts);
  client["followPlans"] = (request: MessageInitShape<typeof WatchPlansRequestSchema>, opts: FollowOptions = {}) =>
    resuming((after, call) => admin.watchPlans({ ...request, after }, call), request.after ?? 0n, false, opts);
  return admin;
}

/** The stream `open` makes, opened once the channel is connected (or failing as not sent). */
async function* afterConnect<T>(admin: object, timeoutMs: number, open: () => AsyncIterable<T>): AsyncGenerator<T> {
  await connected(admin, timeoutMs);
  yield* open();
}

/** The call's options with the time its deadline has left (none when it has no deadline). */
function withDeadline(options: CallOptions, remainingMs: number | undefined): CallOptions {
  const { deadlineMs: _given, ...rest } = options;
  return remainingMs === undefined ? rest : { ...rest, deadlineMs: remainingMs };
}
