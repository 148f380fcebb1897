/** `corral endpoints NAME [PORT_NAME]` (GetEndpoints), as a block per endpoint or as JSON. */
import { GetEndpointsResponseSchema } from "../client/index.js";
import type { Endpoint } from "../client/index.js";
import type { CommandContext } from "./commands.js";
import { json } from "./render.js";

/** `endpoints NAME [PORT_NAME]`: per endpoint its addresses, DNS names and VIP. */
export async function endpoints(ctx: CommandContext, name: string, portName: string | undefined): Promise<void> {
  const res = await ctx.connection.unary("GetEndpoints", (a, opts) => a.getEndpoints({ serviceName: name, portName: portName ?? "" }, opts));
  ctx.out(ctx.json ? json(GetEndpointsResponseSchema, res) : renderEndpoints(name, res.endpoints));
}

/**
 * One block per endpoint:
 *   http
 *     address  10.0.0.1:31000
 *     dns      hello-0-server.hello.autoip.dcos.thisdcos.directory:31000
 *     vip      web.hello.l4lb.thisdcos.directory:80
 */
export function renderEndpoints(service: string, list: readonly Endpoint[]): string {
  if (list.length === 0) return `${service}: no endpoints (its spec advertises no port and has no VIP)`;
  const rows = (label: string, values: readonly string[]): string[] =>
    values.map((v, i) => `  ${(i === 0 ? label : "").padEnd(7)}  ${v}`);
  return list
    .map((e) => {
      const lines = [e.name];
      lines.push(...(e.address.length === 0 ? [`  ${"address".padEnd(7)}  - (no running task)`] : rows("address", e.address)));
      lines.push(...rows("dns", e.dns));
      if (e.vip !== "") lines.push(...rows("vip", [e.vip]));
      return lines.join("\n");
    })
    .join("\n\n");
}
