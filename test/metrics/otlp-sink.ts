/**
 * An OTLP/HTTP traces receiver for tests and the overhead benchmark: takes every POST, answers
 * 200 with an empty ExportTraceServiceResponse, keeps the JSON bodies (the exporter's default
 * encoding) and counts bytes, so a test can see which spans arrived.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface OtlpSink {
  /** http://127.0.0.1:<port>/v1/traces */
  readonly endpoint: string;
  /** Names of the spans received so far, in arrival order. */
  spanNames(): string[];
  readonly stats: { requests: number; bytes: number };
  close(): Promise<void>;
}

interface OtlpJson {
  resourceSpans?: { scopeSpans?: { spans?: { name: string }[] }[] }[];
}

export async function startOtlpSink(): Promise<OtlpSink> {
  const bodies: string[] = [];
  const stats = { requests: 0, bytes: 0 };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      stats.requests++;
      stats.bytes += body.length;
      if ((req.headers["content-type"] ?? "").includes("json")) bodies.push(body.toString("utf8"));
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((r) => server.listen({ host: "127.0.0.1", port: 0 }, r));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}/v1/traces`,
    stats,
    spanNames: () =>
      bodies.flatMap((b) => ((JSON.parse(b) as OtlpJson).resourceSpans ?? []).flatMap((r) => (r.scopeSpans ?? []).flatMap((s) => (s.spans ?? []).map((x) => x.name)))),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
