/**
 * Non-subscribe scheduler calls (mesos-v1-api.md §1.1, §6): POSTed on pooled connections with the
 * subscription's `Mesos-Stream-Id`, a 307 followed by re-POSTing to the resolved Location, and the
 * answer mapped to our error codes: 202 (or 200) is done, anything else is a SchedulerError
 * carrying the master's text.
 */
import { SchedulerError, type ErrorCode } from "../../../domain/errors.js";
import type { JsonObject } from "./json-codec.js";
import { SCHEDULER_PATH } from "./subscription.js";
import { networkError, redirectTarget, type Endpoint, type HttpReply, type Transport } from "./transport.js";

/** Redirects followed per call or subscription attempt before giving up. */
export const MAX_REDIRECTS = 5;

export interface CallTarget {
  readonly endpoint: Endpoint;
  readonly streamId: string | undefined;
}

/** POSTs one call; resolves on 202/200, throws a SchedulerError otherwise. */
export async function postCall(transport: Transport, target: CallTarget, body: JsonObject, timeoutMs: number): Promise<void> {
  const type = typeof body["type"] === "string" ? body["type"] : "call";
  const text = JSON.stringify(body);
  const headers: Record<string, string> = { "Content-Type": "application/json", Accept: "application/json" };
  if (target.streamId !== undefined) headers["Mesos-Stream-Id"] = target.streamId;
  let endpoint = target.endpoint;
  for (let hops = 0; ; hops++) {
    let reply: HttpReply;
    try {
      reply = await transport.request(endpoint, SCHEDULER_PATH, { method: "POST", body: text, headers, timeoutMs });
    } catch (err) {
      throw networkError(`${type} to ${transport.describe(endpoint, SCHEDULER_PATH)}`, err);
    }
    if (reply.status === 202 || reply.status === 200) return;
    const location = reply.headers.location;
    if (reply.status === 307 && location !== undefined && hops < MAX_REDIRECTS) {
      endpoint = redirectTarget(endpoint, location, SCHEDULER_PATH);
      continue;
    }
    throw callError(type, reply);
  }
}

/** The SchedulerError for a refused call, with the master's own words. */
export function callError(what: string, reply: HttpReply): SchedulerError {
  const text = reply.body.toString("utf8").trim().slice(0, 1000);
  const code = codeForStatus(reply.status);
  return new SchedulerError(code, `${what}: the Mesos master answered ${reply.status}${text !== "" ? `: ${text}` : ""}`);
}

/** 400 = a bad or stale call, 403 = not subscribed (any more), 401 = authentication, 5xx/307 = try later. */
export function codeForStatus(status: number): ErrorCode {
  if (status === 400 || status === 404 || status === 405 || status === 406 || status === 415) return "invalid_argument";
  if (status === 401) return "unauthenticated";
  if (status === 403) return "failed_precondition";
  if (status === 409) return "aborted";
  if (status === 500) return "internal";
  return "unavailable";
}
