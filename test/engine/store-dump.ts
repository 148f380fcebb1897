/** Everything a scheduler stored, as path → bytes (hex), to compare a store before and after. */
import type { Persister } from "../../src/engine/ports.js";
import * as layout from "../../src/engine/store/layout.js";

export async function dumpStore(persister: Persister): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (path: string): Promise<void> => {
    const value = await persister.get(path);
    if (value) out.set(path, Buffer.from(value.data).toString("hex"));
    for (const child of await persister.children(path)) await walk(`${path}/${child}`);
  };
  for (const root of [layout.SCHEMA_VERSION, layout.FRAMEWORK_ID, layout.SERVICE_LIST, layout.SERVICES, layout.UNINSTALL_EVENTS]) await walk(root);
  return out;
}
