/**
 * The services holding a deploy slot (the reference's DisciplineSelectionStore, dcos-commons
 * §1.4): node `SelectedServices` at the scheduler's root, the original names joined with `__`
 * (no service name contains it); a missing or empty node is no service. Write-through: storing
 * the set it last read or wrote writes nothing.
 */
import type { Persister } from "../ports.js";
import { decodeText, encodeText } from "./codec.js";
import * as layout from "./layout.js";

export class SelectionStore {
  private cached: ReadonlySet<string> | undefined;

  constructor(private readonly persister: Pick<Persister, "get" | "multi">) {}

  async fetch(): Promise<string[]> {
    const stored = await this.persister.get(layout.SELECTED_SERVICES);
    const text = stored ? decodeText(stored.data) : "";
    const names = text === "" ? [] : text.split("__");
    this.cached = new Set(names);
    return names;
  }

  /** Stores `names` (in their order) unless they are the set last read or stored; returns whether it wrote. */
  async store(names: readonly string[]): Promise<boolean> {
    const cached = this.cached;
    if (cached !== undefined && cached.size === names.length && names.every((n) => cached.has(n))) return false;
    await this.persister.multi([{ kind: "set", path: layout.SELECTED_SERVICES, data: encodeText(names.join("__")) }]);
    this.cached = new Set(names);
    return true;
  }
}
