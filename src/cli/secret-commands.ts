/**
 * `corral secret put|list|delete`. A secret's value is read from a file or
 * stdin by default, so that it stays out of the shell's history and `ps`; `--value` is there for
 * scripts that already hold it, and says so in its help. The value is sent as given, byte for byte.
 */
import { readFile } from "node:fs/promises";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { DeleteSecretResponseSchema, ListSecretsResponseSchema } from "../client/index.js";
import type { SecretInfo } from "../client/index.js";
import type { CommandContext } from "./commands.js";
import { CliError, EXIT } from "./errors.js";
import { json, table } from "./render.js";

export const SECRET_ACTIONS = ["put", "list", "delete"] as const;

export interface SecretValueSource {
  /** A file to read the value from; "-" is stdin. */
  readonly file?: string;
  /** The value itself (visible in the shell's history and to `ps`). */
  readonly value?: string;
}

/** `secret put NAME`, `secret list`, `secret delete NAME`. */
export async function secret(ctx: CommandContext, action: string, name: string | undefined, source: SecretValueSource): Promise<void> {
  const valueGiven = source.file !== undefined || source.value !== undefined;
  if (action === "list") {
    if (name !== undefined) throw new CliError(`secret list takes no name (got ${name})`, EXIT.INVALID);
    if (valueGiven) throw new CliError("--file and --value go with secret put", EXIT.INVALID);
    const res = await ctx.connection.unary("ListSecrets", (a, opts) => a.listSecrets({}, opts));
    return ctx.out(ctx.json ? json(ListSecretsResponseSchema, res) : renderSecrets(res.secrets));
  }
  if (name === undefined) throw new CliError(`secret ${action} needs a name, e.g. corral secret ${action} hello-world/secret1`, EXIT.INVALID);
  if (action === "delete") {
    if (valueGiven) throw new CliError("--file and --value go with secret put", EXIT.INVALID);
    const res = await ctx.connection.unary("DeleteSecret", (a, opts) => a.deleteSecret({ name }, opts));
    return ctx.out(ctx.json ? json(DeleteSecretResponseSchema, res) : res.existed ? `secret ${name}: deleted` : `secret ${name}: not stored (nothing to delete)`);
  }
  if (action !== "put") throw new CliError(`unknown secret action ${action}: put, list or delete`, EXIT.INVALID);
  const value = await readValue(ctx, source);
  await ctx.connection.unary("PutSecret", (a, opts) => a.putSecret({ name, value }, opts));
  ctx.out(ctx.json ? JSON.stringify({ name, sizeBytes: String(value.byteLength) }, null, 2) : `secret ${name}: stored (${bytes(value.byteLength)})`);
}

async function readValue(ctx: CommandContext, source: SecretValueSource): Promise<Uint8Array> {
  if (source.file !== undefined && source.value !== undefined) throw new CliError("give either --file or --value, not both", EXIT.INVALID);
  if (source.value !== undefined) return Buffer.from(source.value, "utf8");
  if (source.file !== undefined && source.file !== "-") {
    try {
      return await readFile(source.file);
    } catch (err) {
      throw new CliError(`cannot read ${source.file}: ${(err as Error).message}`);
    }
  }
  if (ctx.stdinTty === true) ctx.err("reading the secret's value from stdin (it is shown as you type); end it with Ctrl-D");
  return ctx.readStdinBytes();
}

const bytes = (n: number): string => (n === 1 ? "1 byte" : `${n} bytes`);

export function renderSecrets(secrets: readonly SecretInfo[]): string {
  if (secrets.length === 0) return "no secrets";
  const time = (s: SecretInfo): string => (s.updateTime === undefined ? "-" : timestampDate(s.updateTime).toISOString());
  return table(["NAME", "SIZE", "UPDATED"], secrets.map((s) => [s.name, String(s.sizeBytes), time(s)]));
}
