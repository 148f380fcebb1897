/** Small HTTP helpers of the agent's server: bodies, replies, basic authentication. */
import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

/** Largest request body read; a bigger one is answered 413. */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** The whole request body, or undefined when it was too large (the request has been answered). */
export async function readBody(req: IncomingMessage, res: ServerResponse): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      reply(res, 413, `request body over ${MAX_BODY_BYTES} bytes`);
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** A plain-text answer (Mesos answers errors as text). */
export function reply(res: ServerResponse, status: number, text = "", headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const body = Buffer.from(text, "utf8");
  res.writeHead(status, { ...(body.length > 0 ? { "Content-Type": "text/plain; charset=utf-8" } : {}), "Content-Length": String(body.length), ...headers });
  res.end(body);
}

export function replyJson(res: ServerResponse, status: number, value: unknown): void {
  if (res.headersSent) return;
  const body = Buffer.from(JSON.stringify(value), "utf8");
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": String(body.length) });
  res.end(body);
}

/** Whether the request carries `Authorization: Basic` with exactly this principal and secret. */
export function authorized(req: IncomingMessage, credential: { readonly principal: string; readonly secret: string }): boolean {
  const header = req.headers.authorization ?? "";
  const m = /^Basic\s+(\S+)$/i.exec(header);
  if (!m?.[1]) return false;
  const given = Buffer.from(m[1], "base64");
  const expected = Buffer.from(`${credential.principal}:${credential.secret}`, "utf8");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** One header's value (the first, when repeated). */
export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** Whether an `Accept` header admits JSON (absent = anything). */
export function acceptsJson(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === "") return true;
  return accept.split(",").some((part) => {
    const [type = "", ...params] = part.split(";").map((s) => s.trim().toLowerCase());
    const q = params.find((p) => p.startsWith("q="));
    if (q !== undefined && Number(q.slice(2)) === 0) return false;
    return type === "application/json" || type === "application/*" || type === "*/*";
  });
}
