/**
 * HTTP/1.1 to a Mesos master (or the local agent): one request helper over node:http, node:https
 * or a Unix socket, with keep-alive connections for calls, a connection of its own for each
 * subscription stream (it is aborted on its own), HTTP basic authentication as the framework's
 * principal and a CA bundle for https masters (mesos-v1-api.md §1, §5.1).
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import https from "node:https";
import { SchedulerError } from "../../../domain/errors.js";
import type { Clock } from "../../../engine/ports.js";

/** Where requests go: a base URL (a path prefix is kept) or the local agent's Unix socket. */
export type Endpoint =
  | { readonly kind: "http"; readonly url: URL }
  | { readonly kind: "unix"; readonly socketPath: string };

export interface TransportOptions {
  readonly credential?: { readonly principal: string; readonly secret: string };
  /** PEM CA bundle trusted for https masters (in addition to nothing: it replaces the system roots). */
  readonly caFile?: string;
  readonly clock: Clock;
}

export interface RequestInit {
  readonly method: "GET" | "POST";
  readonly body?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** No answer (head and body) within this many ms on the Clock → unavailable. */
  readonly timeoutMs?: number;
  /** Aborting destroys the connection (a pending SUBSCRIBE when the driver closes). */
  readonly signal?: AbortSignal;
}

export interface HttpReply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** Largest reply body read into memory (an operator GET_TASKS of thousands of tasks is a few MB). */
const MAX_REPLY_BYTES = 64 * 1024 * 1024;

/**
 * Pooled connections per master. A burst of calls (an offer cycle's ACCEPTs) queues on a few
 * warm keep-alive connections instead of opening one connection per call, which is slower.
 */
const MAX_SOCKETS = 8;

export class Transport {
  private readonly ca: Buffer | undefined;
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS });
  private readonly httpsAgent: https.Agent;
  private readonly authorization: string | undefined;

  constructor(private readonly options: TransportOptions) {
    this.ca = options.caFile !== undefined ? readCa(options.caFile) : undefined;
    this.httpsAgent = new https.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS, ...(this.ca !== undefined ? { ca: this.ca } : {}) });
    const c = options.credential;
    this.authorization = c !== undefined ? `Basic ${Buffer.from(`${c.principal}:${c.secret}`, "utf8").toString("base64")}` : undefined;
  }

  /** A description of `endpoint` + `path` for messages. */
  describe(endpoint: Endpoint, path: string): string {
    return endpoint.kind === "unix" ? `unix:${endpoint.socketPath}${path}` : `${joinPath(endpoint.url, path)}`;
  }

  /**
   * How a request fails: once (its connection destroyed, the deadline cancelled) with a network
   * error naming the endpoint, on a socket error or when no `waiting` came within the deadline.
   */
  private failure(
    req: http.ClientRequest,
    endpoint: Endpoint,
    path: string,
    init: RequestInit,
    reject: (err: unknown) => void,
    waiting: string,
  ): { fail: (err: unknown) => void; cancelTimer: () => void } {
    let cancelTimer = (): void => {};
    const fail = (err: unknown): void => {
      cancelTimer();
      req.destroy();
      reject(networkError(this.describe(endpoint, path), err));
    };
    if (init.timeoutMs !== undefined) {
      cancelTimer = this.options.clock.setTimer(init.timeoutMs, () => fail(new Error(`no ${waiting} within ${init.timeoutMs} ms`)));
    }
    req.on("error", fail);
    return { fail, cancelTimer: () => cancelTimer() };
  }

  /** One request on a pooled keep-alive connection; the whole reply body is read. */
  request(endpoint: Endpoint, path: string, init: RequestInit): Promise<HttpReply> {
    return new Promise<HttpReply>((resolve, reject) => {
      const req = this.start(endpoint, path, init, true);
      const { fail, cancelTimer } = this.failure(req, endpoint, path, init, reject, "answer");
      req.once("response", (res) => {
        const parts: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_REPLY_BYTES) fail(new Error(`reply body over ${MAX_REPLY_BYTES} bytes`));
          else parts.push(chunk);
        });
        res.on("error", fail);
        res.once("end", () => {
          cancelTimer();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) });
        });
      });
      req.end(init.body);
    });
  }

  /**
   * A streaming request on a connection of its own: resolves with the response once its head
   * arrived (the body is left unread, as raw bytes); `abort` destroys the connection.
   */
  open(endpoint: Endpoint, path: string, init: RequestInit): Promise<{ response: IncomingMessage; abort: () => void }> {
    return new Promise((resolve, reject) => {
      const req = this.start(endpoint, path, init, false);
      const { fail, cancelTimer } = this.failure(req, endpoint, path, init, reject, "response");
      const onAbort = (): void => fail(new Error("aborted"));
      if (init.signal?.aborted === true) return onAbort();
      init.signal?.addEventListener("abort", onAbort, { once: true });
      req.once("response", (response) => {
        cancelTimer();
        init.signal?.removeEventListener("abort", onAbort);
        req.removeListener("error", fail);
        // Errors after the head surface on the response (the subscription listens there); the
        // sinks keep a late error (after an abort) from going unhandled.
        req.on("error", (err) => response.destroy(err));
        response.on("error", () => undefined);
        resolve({ response, abort: () => req.destroy() });
      });
      req.end(init.body);
    });
  }

  /** Closes idle pooled connections; in-flight requests finish or fail on their own. */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private start(endpoint: Endpoint, path: string, init: RequestInit, pooled: boolean): http.ClientRequest {
    const headers: Record<string, string> = { ...init.headers };
    if (this.authorization !== undefined) headers["Authorization"] = this.authorization;
    if (init.body !== undefined) headers["Content-Length"] = String(Buffer.byteLength(init.body));
    if (endpoint.kind === "unix") {
      headers["Host"] = "localhost";
      return http.request({
        socketPath: endpoint.socketPath,
        path,
        method: init.method,
        headers,
        ...(pooled ? { agent: this.httpAgent } : { agent: false }),
      });
    }
    const url = joinPath(endpoint.url, path);
    if (url.protocol === "https:") {
      return https.request(url, {
        method: init.method,
        headers,
        ...(this.ca !== undefined ? { ca: this.ca } : {}),
        ...(pooled ? { agent: this.httpsAgent } : { agent: false }),
      });
    }
    return http.request(url, { method: init.method, headers, ...(pooled ? { agent: this.httpAgent } : { agent: false }) });
  }
}

/**
 * Where a 307 sends us. Mesos writes `Location: //leader:5050/api/v1/scheduler`, with no scheme:
 * it is resolved against the scheme we used (a Unix socket counts as http). The path the
 * Location names for `path` gives the new base (a prefix before `path` is kept).
 */
export function redirectTarget(from: Endpoint, location: string, path: string): Endpoint {
  const base = from.kind === "http" ? from.url : new URL("http://localhost/");
  let to: URL;
  try {
    to = new URL(location, base);
  } catch (err) {
    throw new SchedulerError("unavailable", `the master redirected to an unreadable Location ${JSON.stringify(location.slice(0, 200))}`, { cause: err });
  }
  if (to.protocol !== "http:" && to.protocol !== "https:") {
    throw new SchedulerError("unavailable", `the master redirected to ${to.protocol} (only http and https are followed)`);
  }
  const prefix = to.pathname.endsWith(path) ? to.pathname.slice(0, to.pathname.length - path.length) : "";
  return { kind: "http", url: new URL(`${to.protocol}//${to.host}${prefix}`) };
}

/** `url` with `path` appended to its path (a base path is a prefix, never replaced). */
function joinPath(url: URL, path: string): URL {
  const base = url.pathname.endsWith("/") ? url.pathname.slice(0, -1) : url.pathname;
  return new URL(`${url.protocol}//${url.host}${base}${path}`);
}

function readCa(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const reason = `cannot read the CA file: ${err instanceof Error ? err.message : String(err)}`;
    throw new SchedulerError("invalid_argument", `--mesos-ca-file ${file}: ${reason}`, {
      cause: err,
      violations: [{ field: "mesos-ca-file", reason }],
    });
  }
}

/** A failed exchange (refused, reset, TLS, timeout) is `unavailable`: the caller may retry. */
export function networkError(target: string, err: unknown): SchedulerError {
  if (err instanceof SchedulerError) return err;
  const text = err instanceof Error ? err.message : String(err);
  return new SchedulerError("unavailable", `${target}: ${text}`, { cause: err });
}
