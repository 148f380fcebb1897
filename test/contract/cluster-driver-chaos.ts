/**
 * The local agent's chaos knobs, set over its Unix socket (`POST /__chaos`, the wire agreement
 * of issue 14): written here against the wire so the contract does not depend on a client
 * module's shape.
 */
import { request } from "node:http";

export interface ChaosKnobs {
  readonly split_records?: boolean;
  readonly stall?: boolean;
  readonly duplicate_updates?: boolean;
  readonly redirect?: string | null;
  readonly unavailable?: boolean;
  readonly drop_streams?: true;
  readonly lose_agent?: string;
}

/** Sets `knobs` on the agent listening on `socketPath`; resolves with the knobs now in force. */
export function postChaos(socketPath: string, knobs: ChaosKnobs): Promise<unknown> {
  const body = JSON.stringify(knobs);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath,
        method: "POST",
        path: "/__chaos",
        headers: { host: "localhost", "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          if (res.statusCode !== 200) reject(new Error(`POST /__chaos ${body}: ${res.statusCode} ${text}`));
          else resolve(text === "" ? {} : (JSON.parse(text) as unknown));
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}
