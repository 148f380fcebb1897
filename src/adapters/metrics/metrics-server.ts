/**
 * The HTTP endpoint Prometheus scrapes: GET /metrics answers the registry's text exposition with
 * its content type; anything else is 404. Plain node:http, one request at a time is plenty.
 */
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { CorralMetrics } from "./corral-metrics.js";

export interface MetricsServer {
  /** "host:port" as bound (the port resolved when 0 was asked for). */
  readonly address: string;
  close(): Promise<void>;
}

/** Listens on `host:port`; rejects with the listen error (its `code`, e.g. EADDRINUSE). */
export async function listenMetrics(metrics: CorralMetrics, listen: string, onError: (err: unknown) => void): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0];
    if ((req.method !== "GET" && req.method !== "HEAD") || path !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("not found: the metrics are at GET /metrics\n");
      return;
    }
    metrics.exposition().then(
      ({ body, contentType }) => {
        res.writeHead(200, { "content-type": contentType });
        res.end(req.method === "HEAD" ? undefined : body);
      },
      (err: unknown) => {
        onError(err);
        res.writeHead(500, { "content-type": "text/plain; charset=utf-8" }).end("could not collect the metrics\n");
      },
    );
  });
  // A scrape must not keep the process alive or hold a stop up.
  server.keepAliveTimeout = 5_000;
  const { host, port } = splitAddress(listen);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port, exclusive: true }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", onError);
  const bound = server.address() as AddressInfo;
  return {
    address: `${bound.family === "IPv6" ? `[${bound.address}]` : bound.address}:${bound.port}`,
    close: () => closeServer(server),
  };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** "host:port", "[v6]:port" or ":port" (every interface). */
export function splitAddress(address: string): { host: string | undefined; port: number } {
  const colon = address.lastIndexOf(":");
  const rawHost = address.slice(0, colon);
  const host = rawHost.startsWith("[") && rawHost.endsWith("]") ? rawHost.slice(1, -1) : rawHost;
  return { host: host === "" ? undefined : host, port: Number(address.slice(colon + 1)) };
}
