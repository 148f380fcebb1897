/**
 * The secret RPCs over the SecretStore port. A value goes from the request to the store and
 * nowhere else: it is not logged (rpc-calls logs method, status and duration only), and the
 * store's errors name the field and the size, never the bytes.
 */
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { DeleteSecretRequest, PutSecretRequest } from "../../../gen/corral/v1/admin_pb.js";
import { SchedulerError } from "../../domain/errors.js";
import type { SecretsAccess } from "../../engine/admin-api.js";
import type { SecretStore } from "../../engine/ports.js";
import { unary } from "./rpc-calls.js";
import type { RpcPlumbing } from "./rpc-calls.js";

/** Said when the server was made without a secret store at all (tests, benchmarks). */
const NO_STORE = "this scheduler keeps no secret store";

export function secretHandlers(access: SecretsAccess | undefined, rpc: RpcPlumbing) {
  const store = (): SecretStore => {
    if (access === undefined) throw new SchedulerError("unimplemented", NO_STORE);
    if ("unavailable" in access) throw new SchedulerError("failed_precondition", access.unavailable);
    return access.store;
  };
  return {
    putSecret: unary("PutSecret", rpc, async (req: PutSecretRequest) => {
      await store().put(req.name, req.value);
      return {};
    }),
    listSecrets: unary("ListSecrets", rpc, async () => ({
      secrets: (await store().list()).map((e) => ({ name: e.name, sizeBytes: BigInt(e.sizeBytes), updateTime: timestampFromMs(e.updatedMs) })),
    })),
    deleteSecret: unary("DeleteSecret", rpc, async (req: DeleteSecretRequest) => ({
      existed: await store().delete(req.name),
    })),
  };
}
