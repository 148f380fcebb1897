/**
 * A service keeps its user when a new spec names none (§3.10 item 9: the reference's mono
 * schedulers defaulted to root, so the migration — or dropping a `user:` line — would otherwise
 * change a task's user, which the update validator refuses or relaunches for). The new context
 * carries the running user as its `defaultUser`, and the built spec has it.
 */
import type { ServiceSpec } from "../domain/spec/types.js";
import type { Persister } from "./ports.js";
import type { BuiltService } from "./service-context.js";
import { decodeJson } from "./store/codec.js";
import * as layout from "./store/layout.js";

/**
 * `built` with the running user when its spec names no user of its own; unchanged otherwise.
 * The factory keeps a `defaultUser` in the context only when the spec named none, so that (or no
 * user at all) tells it; the result is what the factory builds from the adjusted context.
 */
export function inheritUser(built: BuiltService, runningUser: string | undefined): BuiltService {
  const namesNone = built.context.defaultUser !== undefined || built.spec.user === undefined;
  if (!namesNone || runningUser === undefined || built.spec.user === runningUser) return built;
  return { ...built, context: { ...built.context, defaultUser: runningUser }, spec: { ...built.spec, user: runningUser } };
}

/** The effective user of a service's stored config (its spec as built), if the config is there. */
export async function storedUser(persister: Persister, service: string, configId: string): Promise<string | undefined> {
  if (configId === "") return undefined;
  const node = await persister.get(layout.configurationPath(service, configId));
  return node ? decodeJson<Partial<ServiceSpec>>(node.data).user : undefined;
}
