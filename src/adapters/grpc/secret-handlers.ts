/**
 * The secret RPCs over the SecretStore port. A value goes from the request to the store and
 * nowhere else: it is not logged (rpc-calls logs method, status and duration only), and the
 * store's errors name the field and the size, never the bytes.
 */
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { DeleteSecretRequest, PutSecretRequest } from "../../../gen/corral/v1/admin_pb.js";
import { SchedulerError } from "../../domain/errors.js";
import type { SecretsAccess } from "../../engine/admin-api.js";
import type { Logger, SecretStore } from "../../engine/ports.js";
import { unary } from "./rpc-calls.js";

/** Said when the server was made without a secret store at all (tests, benchmarks). */
const NO_STORE = "this scheduler keeps no secret store";

export function secretHandlers(access: SecretsAccess | undefined, logger: Logger) {
  const store = (): SecretStore => {
    if (access === undefined) throw new SchedulerError("unimplemented", NO_STORE);
    if ("unavailable" in access) throw new SchedulerError("failed_precondition", access.unavailable);
    return access.store;
  };
  return {
    putSecret: unary("PutSecret", logger, async (req: PutSecretRequest) => {
      await store().put(req.name, req.value).catch(tooLongName);
      return {};
    }),
    listSecrets: unary("ListSecrets", logger, async () => ({
      secrets: (await store().list()).map((e) => ({ name: e.name, sizeBytes: BigInt(e.sizeBytes), updateTime: timestampFromMs(e.updatedMs) })),
    })),
    deleteSecret: unary("DeleteSecret", logger, async (req: DeleteSecretRequest) => ({
      existed: await store().delete(req.name),
    })),
  };
}

/**
 * A valid name of up to 255 characters can still make a file name the file system refuses (each
 * '/' is stored as %2F, and the store writes a temporary file first): the caller's to shorten,
 * not an internal error. Nothing was written.
 */
function tooLongName(err: unknown): never {
  if ((err as { code?: unknown } | null)?.code !== "ENAMETOOLONG") throw err;
  throw SchedulerError.invalid([{ field: "name", reason: "is too long to be stored as a file on this machine (each '/' counts as 3 characters); shorten it" }]);
}
