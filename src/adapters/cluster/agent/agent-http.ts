/**
 * A tiny HTTP client for the agent's own endpoints (daemon control, chaos): one request over
 * the Unix socket or a URL, the whole answer read. No engine imports (the CLI uses it).
 */
import { request } from "node:http";

export type AgentTarget = { readonly socketPath: string } | { readonly url: string };

export interface AgentAnswer {
  readonly status: number;
  readonly body: string;
}

export function agentRequest(target: AgentTarget, method: string, path: string, body?: unknown, timeoutMs = 5000): Promise<AgentAnswer> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), "utf8");
  const where =
    "socketPath" in target
      ? { socketPath: target.socketPath, host: "localhost", path }
      : (() => {
          const u = new URL(path, target.url);
          return { host: u.hostname, port: u.port, path: `${u.pathname}${u.search}` };
        })();
  return new Promise((done, fail) => {
    const req = request(
      {
        ...where,
        agent: false, // one connection per request: a pooled one may belong to an agent that has gone
        method,
        headers: payload ? { "Content-Type": "application/json", "Content-Length": String(payload.length), Accept: "application/json" } : {},
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", fail);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer from the agent within ${timeoutMs} ms`)));
    req.on("error", fail);
    req.end(payload);
  });
}
