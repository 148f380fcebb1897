/**
 * How one launch takes and reserves resources of an offer: from the unreserved pool, or — for a
 * pod with `pre-reserved-role R` — only from what the offer holds statically reserved to R,
 * reserved refined ([STATIC R, DYNAMIC R/<role>], mesos-v1-api.md §9.1). Every new reservation
 * is labelled with resource_id, framework_id and — except a mono scheduler's — namespace (§2.2).
 * It also words why a fit fails.
 */
import type { Reservation, Resource } from "../cluster.js";
import { LABEL_FRAMEWORK_ID, LABEL_NAMESPACE, LABEL_RESOURCE_ID } from "../cluster.js";
import type { PortSpec } from "../spec/types.js";
import type { LaunchContext } from "./launch-context.js";
import type { OfferPool, Source } from "./pool.js";
import { sourceOf } from "./pool.js";

export class Reserver {
  readonly source: Source;

  constructor(
    private readonly ctx: LaunchContext,
    readonly pool: OfferPool,
    readonly preReservedRole: string | undefined,
    /** Fixed ports of the pod: a dynamic port never takes one (a later task of the pod needs it). */
    private readonly fixedPorts: ReadonlySet<number> = new Set(),
  ) {
    this.source = sourceOf(preReservedRole);
  }

  newId(): string {
    return this.ctx.newId();
  }

  get agentId(): string {
    return this.pool.offer.agentId;
  }

  /** A new reservation stack under a fresh resource_id. */
  reservation(): Reservation[] {
    const ctx = this.ctx;
    const namespace = ctx.mono === true ? {} : { [LABEL_NAMESPACE]: ctx.service };
    const labels = { [LABEL_RESOURCE_ID]: ctx.newId(), [LABEL_FRAMEWORK_ID]: ctx.frameworkId, ...namespace };
    const R = this.preReservedRole;
    if (R === undefined) return [{ type: "DYNAMIC", role: ctx.role, principal: ctx.principal, labels }];
    return [...this.pool.staticStack(R), { type: "DYNAMIC", role: `${R}/${ctx.role}`, principal: ctx.principal, labels }];
  }

  reserve(name: string, scalar: number): Resource {
    return { name, type: "SCALAR", scalar, reservations: this.reservation() };
  }

  /** `name` as taken from the source, not reserved by us: unreserved, or still only static to R. */
  plain(name: string, scalar: number): Resource {
    const R = this.preReservedRole;
    return { name, type: "SCALAR", scalar, ...(R === undefined ? {} : { reservations: this.pool.staticStack(R) }) };
  }

  /** Takes `amount` of `name` from the source (nothing for amount ≤ 0); false when short. */
  take(name: string, amount: number): boolean {
    return amount <= 0 || this.pool.takeScalar(name, amount, this.source);
  }

  /** Why `take` failed: `<head>: need <need>, offered <what the source has>`. */
  short(head: string, name: string, need: number | string): string {
    return this.noRole() ?? `${head}: need ${need}, offered ${this.pool.available(name, this.source)}${this.fromRole()}`;
  }

  /** The port `spec` asks for, taken from the source; a string says why none could be. */
  port(spec: PortSpec): number | string {
    const chosen = this.pool.takePort(spec.port, spec.ranges, this.source, this.fixedPorts);
    if (chosen !== undefined) return chosen;
    const noRole = this.noRole();
    if (noRole) return noRole;
    if (spec.port !== 0) {
      return `port ${spec.port} for ${spec.name} is not offered by agent ${this.agentId}${this.fromRole()} (another process holds it, or it is outside the agent's ports)`;
    }
    const within = spec.ranges && spec.ranges.length > 0 ? ` within ${spec.ranges.map((r) => `${r.begin}-${r.end}`).join(",")}` : "";
    return `no free port for ${spec.name}${within} offered by agent ${this.agentId}${this.fromRole()}`;
  }

  private fromRole(): string {
    return this.preReservedRole === undefined ? "" : ` pre-reserved for role ${this.preReservedRole}`;
  }

  private noRole(): string | undefined {
    const R = this.preReservedRole;
    if (R === undefined || this.pool.offersStatic(R)) return undefined;
    // Says how to get some, as the user may not have set either up yet.
    return `no resources pre-reserved for role ${R} offered (on the local agent: --agent-pre-reserved ${R}:cpus=…,mem=…; on Mesos: --pre-reserved-role ${R})`;
  }
}
