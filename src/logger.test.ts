import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "./logger.js";

/** What the logger wrote for one start-up line, as text. */
async function written(format: "json" | "pretty"): Promise<string> {
  const out = new PassThrough();
  let text = "";
  out.on("data", (chunk: Buffer) => (text += chunk.toString()));
  const logger = await createLogger({ level: "info", format, destination: out });
  logger.child({ component: "grpc" }).info({ address: "127.0.0.1:50051", cluster: "local" }, "corral is serving");
  logger.debug({}, "below the level");
  await new Promise((resolve) => setImmediate(resolve));
  return text;
}

describe("createLogger", () => {
  it("writes one JSON object a line for machines", async () => {
    const lines = (await written("json")).trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 30, app: "corral", component: "grpc", address: "127.0.0.1:50051", msg: "corral is serving" });
  });

  it("writes one readable line per entry for people: time, level, message, then the fields", async () => {
    const text = await written("pretty");
    expect(text).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: corral is serving \{"component":"grpc","address":"127\.0\.0\.1:50051","cluster":"local"\}\n$/);
  });
});
