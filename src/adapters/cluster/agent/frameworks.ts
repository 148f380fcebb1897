/**
 * The agent's frameworks: one FrameworkHost each, framework IDs `<master-id>-<4-digit counter>`
 * handed out here, removed IDs remembered, all of it in agent-state.json. A new framework whose
 * role has a removed framework's reservations takes over that framework's host, so the role's
 * reserved resources and volumes are offered to it, as Mesos offers them to any framework in the
 * role (§15.5).
 */
import { join } from "node:path";
import type { SimAgentSpec } from "../sim-agent.js";
import { frameworkRole, type WireFrameworkInfo } from "./call-codec.js";
import { loadAgentState, saveAgentState, AGENT_STATE_VERSION } from "./agent-state.js";
import type { EventStream } from "./event-stream.js";
import { FrameworkHost } from "./framework-host.js";
import type { AgentSettings } from "./framework-host.js";

export interface FrameworksOptions extends AgentSettings {
  readonly stateDir: string;
  /** The agent's address for SUBSCRIBED's master_info (hostname, port). */
  readonly address: () => { readonly hostname: string; readonly port: number };
}

export class Frameworks {
  readonly masterId: string;
  private nextFramework: number;
  private readonly hosts: FrameworkHost[] = [];
  private readonly removed: Set<string>;
  /** Agents lost by the chaos knob: every host, new ones too, has them removed. */
  readonly lostAgents = new Set<string>();

  constructor(private readonly o: FrameworksOptions) {
    const saved = loadAgentState(o.stateDir);
    this.masterId = saved?.masterId ?? o.random.uuid();
    this.nextFramework = saved?.nextFramework ?? 0;
    this.removed = new Set(saved?.removedFrameworks ?? []);
    for (const h of saved?.hosts ?? []) {
      const host = this.newHost(h.dir, h.frameworkId, h.info, h.removed);
      // Restored frameworks are disconnected until they resubscribe; their timers start again.
      host.armFailover();
    }
    this.save();
  }

  /** The agents' IDs, the same in every host. */
  get agentIds(): string[] {
    return this.o.agents.map((_, i) => `${this.masterId}-S${i}`);
  }

  get agentSpecs(): readonly SimAgentSpec[] {
    return this.o.agents;
  }

  all(): readonly FrameworkHost[] {
    return this.hosts;
  }

  /** The host serving `frameworkId` now (removed frameworks have none). */
  get(frameworkId: string): FrameworkHost | undefined {
    return this.hosts.find((h) => !h.removed && h.frameworkId === frameworkId);
  }

  /** The host whose sandboxes a framework ID names: the one serving it, or the one it started. */
  sandboxHost(frameworkId: string): FrameworkHost | undefined {
    return this.get(frameworkId) ?? this.hosts.find((h) => h.dir === frameworkId || h.frameworkId === frameworkId);
  }

  isRemoved(frameworkId: string): boolean {
    return this.removed.has(frameworkId);
  }

  /**
   * SUBSCRIBE after validation: a known framework fails over to `stream`; an unknown ID (an agent
   * that lost its state) is re-created with it (§2 step 8); no ID gets a new one.
   */
  async subscribe(info: WireFrameworkInfo, stream: EventStream, suppressedRoles: readonly string[]): Promise<string> {
    let id = info.id;
    let host = id !== undefined ? this.get(id) : undefined;
    if (id === undefined) {
      id = `${this.masterId}-${String(this.nextFramework++).padStart(4, "0")}`;
      host = this.inheritable(frameworkRole(info));
    }
    host ??= this.newHost(id, id, info, false);
    await host.subscribe(id, { ...info, id }, stream, suppressedRoles);
    this.save();
    return id;
  }

  /** TEARDOWN. */
  async teardown(host: FrameworkHost): Promise<void> {
    const id = host.frameworkId;
    await host.remove();
    this.markRemoved(id);
  }

  /** Every subscription stream dropped (chaos). */
  dropStreams(streams: readonly EventStream[]): void {
    for (const s of streams) s.drop();
  }

  /** Chaos `lose_agent`: the agent is removed in every framework's books. */
  loseAgent(agentId: string): void {
    if (!this.agentIds.includes(agentId)) throw new Error(`unknown agent ${agentId}`);
    this.lostAgents.add(agentId);
    for (const h of this.hosts) h.loseAgent(agentId);
  }

  close(): void {
    this.save();
    for (const h of this.hosts) h.close();
  }

  save(): void {
    saveAgentState(this.o.stateDir, {
      version: AGENT_STATE_VERSION,
      masterId: this.masterId,
      nextFramework: this.nextFramework,
      hosts: this.hosts.map((h) => ({ dir: h.dir, frameworkId: h.frameworkId, info: h.info, removed: h.removed })),
      removedFrameworks: [...this.removed],
    });
  }

  private markRemoved(frameworkId: string): void {
    this.removed.add(frameworkId);
    this.save();
  }

  /** A removed framework's host of `role` that still holds reservations. */
  private inheritable(role: string): FrameworkHost | undefined {
    return this.hosts.find((h) => h.removed && h.role === role && h.sim.reservations().size > 0);
  }

  private newHost(dir: string, frameworkId: string, info: WireFrameworkInfo, removed: boolean): FrameworkHost {
    const address = this.o.address();
    const host = new FrameworkHost({
      root: join(this.o.stateDir, "frameworks", dir),
      dir,
      frameworkId,
      info,
      removed,
      masterId: this.masterId,
      agents: this.o.agents,
      master: { id: this.masterId, hostname: address.hostname, port: address.port },
      heartbeatIntervalS: this.o.heartbeatIntervalS,
      clock: this.o.clock,
      random: this.o.random,
      log: this.o.log,
      taskPath: this.o.taskPath,
      canSwitchUser: this.o.canSwitchUser,
      statusRetryMs: this.o.statusRetryMs,
      ...(this.o.secretsDir !== undefined ? { secretsDir: this.o.secretsDir } : {}),
      ...(this.o.busyPorts ? { busyPorts: this.o.busyPorts } : {}),
      onRemoved: (_host, id) => this.markRemoved(id),
    });
    for (const agentId of this.lostAgents) host.sim.removeAgent(agentId);
    this.hosts.push(host);
    return host;
  }
}
