/**
 * The local agent: master and agent in one, serving the Mesos v1 scheduler API
 * (`/api/v1/scheduler`), the operator calls tooling needs (`/api/v1`) and the sandboxes
 * (`/files/…`) over HTTP on a Unix socket (mode 0600) and optionally TCP, running every task
 * itself. Each framework gets a FrameworkHost (frameworks.ts); `close` stops serving and leaves
 * the tasks running for the next agent on this state directory, which re-adopts them.
 */
import { chmodSync, mkdirSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import type { Clock, Logger, Random } from "../../../engine/ports.js";
import type { Json } from "../mesos/json-codec.js";
import type { Range } from "../../../domain/cluster.js";
import { cachedBusyPorts } from "./free-ports.js";
import { localAgentSpecs, type Machine } from "./local-agents.js";
import { thisMachine } from "./this-machine.js";
import { encodeKnobs, NO_CHAOS, readChaosRequest, type ChaosKnobs } from "./chaos.js";
import type { EventStream } from "./event-stream.js";
import { filesApi } from "./files-api.js";
import type { FrameworkHost } from "./framework-host.js";
import { Frameworks } from "./frameworks.js";
import { authorized, readBody, reply, replyJson } from "./http-util.js";
import { operatorApi } from "./operator-api.js";
import { schedulerApi, type SchedulerApiContext } from "./scheduler-api.js";

export interface LocalAgentOptions {
  /** Everything the agent keeps: its state file, sandboxes, volumes, socket. */
  readonly stateDir: string;
  /** Agents this machine is split into (`--local-agents`), each with its own hostname and attributes. */
  readonly agents: number;
  /** @default thisMachine() */
  readonly machine?: Machine;
  /** PATH given to tasks. */
  readonly taskPath: string;
  /** The agent runs as root, so a task may run as the user its spec names. */
  readonly canSwitchUser: boolean;
  /** @default 15 */
  readonly heartbeatIntervalS?: number;
  /** @default `<stateDir>/agent.sock` */
  readonly socketPath?: string;
  /** An extra TCP listener (tests: 307 Location needs host:port). Port 0 picks one. */
  readonly listen?: { readonly host: string; readonly port: number };
  /** When set, every request needs HTTP basic authentication with it (else 401). */
  readonly credential?: { readonly principal: string; readonly secret: string };
  /** Serves `POST /__chaos` (tests only). */
  readonly chaos?: boolean;
  /** Re-send interval of unacknowledged updates. @default 10_000 */
  readonly statusRetryMs?: number;
  /** The secret store tasks' secrets come from (`--secrets-dir`). @default `<stateDir>/secrets` */
  readonly secretsDir?: string;
  /**
   * Ports something else on this machine holds now, asked once per allocation round: not
   * offered. @default a reading of /proc/net/{tcp,tcp6,udp,udp6}, at most once a second
   */
  readonly busyPorts?: () => readonly Range[];
  readonly clock: Clock;
  readonly random: Random;
  readonly log: Logger;
}

export class LocalAgent {
  private readonly servers: Server[] = [];
  private readonly streams = new Set<EventStream>();
  private knobs: ChaosKnobs = NO_CHAOS;
  private closed = false;
  private tcp: number | undefined;
  private readonly frameworks: Frameworks;
  private readonly socket: string;
  private readonly startedAtMs: number;

  private constructor(private readonly o: LocalAgentOptions) {
    const stateDir = resolve(o.stateDir);
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    // Tasks of other users pass it to their sandboxes (framework-host.ts); its files stay 0600.
    if (o.canSwitchUser) chmodSync(stateDir, 0o711);
    this.socket = o.socketPath ?? join(stateDir, "agent.sock");
    this.startedAtMs = o.clock.now();
    const machine = o.machine ?? thisMachine(stateDir);
    this.frameworks = new Frameworks({
      stateDir,
      agents: localAgentSpecs(machine, o.agents),
      heartbeatIntervalS: o.heartbeatIntervalS ?? 15,
      clock: o.clock,
      random: o.random,
      log: o.log,
      taskPath: o.taskPath,
      canSwitchUser: o.canSwitchUser,
      statusRetryMs: o.statusRetryMs ?? 10_000,
      secretsDir: o.secretsDir ?? join(stateDir, "secrets"),
      busyPorts: o.busyPorts ?? cachedBusyPorts(() => o.clock.now()),
      address: () => ({ hostname: machine.hostname, port: this.tcp ?? 0 }),
    });
  }

  static async start(o: LocalAgentOptions): Promise<LocalAgent> {
    const agent = new LocalAgent(o);
    try {
      await agent.listen();
    } catch (err) {
      await agent.close();
      throw err;
    }
    o.log.info({ socketPath: agent.socket, tcpPort: agent.tcp, masterId: agent.frameworks.masterId }, "agent: serving");
    return agent;
  }

  get socketPath(): string {
    return this.socket;
  }

  /** The TCP port when `listen` was given. */
  get tcpPort(): number | undefined {
    return this.tcp;
  }

  /** The agent's id: agents are `<masterId>-S<n>`, frameworks `<masterId>-<nnnn>`. */
  get masterId(): string {
    return this.frameworks.masterId;
  }

  /** The framework hosts, each with its simulated master and runtime (tests, diagnostics). */
  frameworkHosts(): readonly FrameworkHost[] {
    return this.frameworks.all();
  }

  /** Live task processes of every framework (tests, diagnostics). */
  processes(): { readonly frameworkId: string; readonly taskId: string; readonly taskPid?: number }[] {
    return this.frameworks.all().flatMap((h) => h.runtime.processes().map((p) => ({ frameworkId: h.frameworkId, ...p })));
  }

  /** Stops serving; the tasks keep running for the next agent on this state directory. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.streams) s.end();
    this.streams.clear();
    this.frameworks.close();
    await Promise.all(
      this.servers.map(
        (server) =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      ),
    );
    rmSync(this.socket, { force: true });
  }

  private async listen(): Promise<void> {
    // A socket left by an agent that died: the daemon's lock says none runs now.
    rmSync(this.socket, { force: true });
    const unix = this.server();
    // umask-safe: nobody else may connect between listen and chmod. (A worker thread cannot set
    // the umask; the state directory, mode 0700, still keeps others out then.)
    const umask = trySetUmask(0o177);
    try {
      await listenOn(unix, { path: this.socket });
    } finally {
      if (umask !== undefined) trySetUmask(umask);
    }
    chmodSync(this.socket, 0o600);
    if (this.o.listen) {
      const tcp = this.server();
      await listenOn(tcp, { host: this.o.listen.host, port: this.o.listen.port });
      this.tcp = (tcp.address() as AddressInfo).port;
    }
  }

  private server(): Server {
    const server = createServer((req, res) => {
      this.route(req, res).catch((err: unknown) => {
        this.o.log.error({ err, url: req.url }, "agent: request failed");
        reply(res, 500, "internal error");
      });
    });
    server.keepAliveTimeout = 60_000;
    this.servers.push(server);
    return server;
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { credential } = this.o;
    if (credential && !authorized(req, credential)) return reply(res, 401, "Unauthorized", { "WWW-Authenticate": 'Basic realm="mesos"' });
    const url = new URL(req.url ?? "/", "http://localhost");
    switch (url.pathname) {
      case "/api/v1/scheduler":
        return schedulerApi(this.schedulerContext(), req, res);
      case "/api/v1":
        return operatorApi({ frameworks: this.frameworks, startedAtMs: this.startedAtMs, master: () => this.masterInfo() }, req, res);
      case "/files/browse":
      case "/files/read":
        return filesApi(this.frameworks, req, res, url);
      case "/__chaos":
        if (this.o.chaos) return this.chaos(req, res);
        return reply(res, 404, "Not found");
      default:
        return reply(res, 404, "Not found");
    }
  }

  private schedulerContext(): SchedulerApiContext {
    const { clock, random, log } = this.o;
    return { frameworks: this.frameworks, chaos: () => this.knobs, clock, random, log, heartbeatIntervalS: this.o.heartbeatIntervalS ?? 15, streams: this.streams };
  }

  private masterInfo(): { id: string; hostname: string; port: number } {
    return { id: this.frameworks.masterId, hostname: this.frameworks.agentSpecs[0]?.hostname ?? "localhost", port: this.tcp ?? 0 };
  }

  private async chaos(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== "POST") return reply(res, 405, "Expecting 'POST'", { Allow: "POST" });
    const body = await readBody(req, res);
    if (body === undefined) return;
    let request;
    try {
      request = readChaosRequest(JSON.parse(body.toString("utf8") || "{}") as Json, this.knobs);
    } catch (err) {
      return reply(res, 400, (err as Error).message);
    }
    if (request.loseAgent !== undefined && !this.frameworks.agentIds.includes(request.loseAgent)) {
      return reply(res, 400, `unknown agent ${request.loseAgent}`);
    }
    this.knobs = request.knobs;
    this.o.log.warn({ knobs: encodeKnobs(this.knobs), dropStreams: request.dropStreams, loseAgent: request.loseAgent }, "agent: chaos");
    if (request.dropStreams) {
      const open = [...this.streams];
      this.streams.clear();
      for (const s of open) s.drop();
    }
    if (request.loseAgent !== undefined) this.frameworks.loseAgent(request.loseAgent);
    replyJson(res, 200, encodeKnobs(this.knobs));
  }
}

function trySetUmask(mask: number): number | undefined {
  try {
    return process.umask(mask);
  } catch {
    return undefined;
  }
}

function listenOn(server: Server, where: { path: string } | { host: string; port: number }): Promise<void> {
  return new Promise((done, fail) => {
    server.once("error", fail);
    server.listen(where, () => {
      server.off("error", fail);
      done();
    });
  });
}
