/**
 * GetEndpoints over AdminApi.getEndpoints: the service's endpoints, or the one named by
 * `port_name` (NOT_FOUND naming the known ones when it has none of that name).
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { EndpointSchema, GetEndpointsRequest } from "../../../gen/corral/v1/admin_pb.js";
import { SchedulerError, abbreviate, abbreviateList } from "../../domain/errors.js";
import type { AdminApi, EndpointView } from "../../engine/admin-api.js";
import type { Logger } from "../../engine/ports.js";
import { unary } from "./rpc-calls.js";

export function endpointHandlers(api: AdminApi, logger: Logger) {
  return {
    getEndpoints: unary("GetEndpoints", logger, async (req: GetEndpointsRequest) => {
      if (req.serviceName === "") throw SchedulerError.invalid([{ field: "service_name", reason: "is required" }]);
      if (!api.getEndpoints) throw new SchedulerError("unimplemented", "this scheduler does not list endpoints");
      const all = [...(await renamed(() => api.getEndpoints!(req.serviceName)))].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      if (req.portName === "") return { endpoints: all.map(toEndpointMessage) };
      const one = all.find((e) => e.name === req.portName);
      if (one === undefined) {
        const known = all.length === 0 ? "it has none" : `it has ${abbreviateList(all.map((e) => e.name))}`;
        throw new SchedulerError("not_found", `service '${abbreviate(req.serviceName)}' has no endpoint '${abbreviate(req.portName)}' (${known})`);
      }
      return { endpoints: [toEndpointMessage(one)] };
    }),
  };
}

/** The engine names the service field `name`; this request calls it `service_name`. */
async function renamed<T>(f: () => T | Promise<T>): Promise<T> {
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
