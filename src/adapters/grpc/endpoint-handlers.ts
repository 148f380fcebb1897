/** GetEndpoints over AdminApi.getEndpoints (the engine's view of the stored tasks). */
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { EndpointSchema, GetEndpointsRequest } from "../../../gen/corral/v1/admin_pb.js";
import { SchedulerError } from "../../domain/errors.js";
import type { AdminApi, EndpointView } from "../../engine/admin-api.js";
import { unary } from "./rpc-calls.js";
import type { RpcPlumbing } from "./rpc-calls.js";

export function endpointHandlers(api: AdminApi, rpc: RpcPlumbing) {
  return {
    getEndpoints: unary("GetEndpoints", rpc, async (req: GetEndpointsRequest) => {
      if (req.serviceName === "") throw SchedulerError.invalid([{ field: "service_name", reason: "is required" }]);
      if (!api.getEndpoints) throw new SchedulerError("unimplemented", "this scheduler does not list endpoints");
      const get = api.getEndpoints.bind(api);
      const views = await renamed(() => get(req.serviceName, req.portName === "" ? undefined : req.portName));
      return { endpoints: views.map(toEndpointMessage) };
    }),
  };
}

/** The engine names the service field `name`; this request calls it `service_name`. */
async function renamed<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    if (!(err instanceof SchedulerError) || err.code !== "invalid_argument" || err.violations.length === 0) throw err;
    throw SchedulerError.invalid(err.violations.map((v) => (v.field === "name" ? { ...v, field: "service_name" } : v)));
  }
}

function toEndpointMessage(view: EndpointView): MessageInitShape<typeof EndpointSchema> {
  return { name: view.name, address: [...view.addresses], dns: [...view.dns], vip: view.vip ?? "" };
}
