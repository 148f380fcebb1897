import { parsePortRanges } from "./free-ports.js";
import { parseAgentResources } from "./machine-resources.js";
import { parsePreReserved } from "./pre-reserved.js";

/** The agent daemon's command line (main.ts); shared with daemon.ts, which builds it. */
export interface AgentArgs {
  readonly stateDir: string;
  readonly agents: number;
  readonly heartbeatIntervalS: number;
  readonly listen?: { readonly host: string; readonly port: number };
  readonly chaos: boolean;
  /** `--resources cpus:N;mem:MB;disk:MB`: offered instead of what the agent measured. */
  readonly resources?: string;
  /** `--ports a-b,c-d`: the ports offered (less those in use) instead of 1024–65535. */
  readonly ports?: string;
  /** `--pre-reserved R:cpus=N,mem=MB,disk=MB[,ports=a-b][;R2:…]`: pools statically reserved for roles. */
  readonly preReserved?: string;
  /** `--secrets-dir D`: the secret store. @default `<state-dir>/secrets` */
  readonly secretsDir?: string;
}

export function parseAgentArgs(argv: readonly string[]): AgentArgs {
  let stateDir: string | undefined;
  let agents = 1;
  let heartbeatIntervalS = 15;
  let listen: AgentArgs["listen"];
  let chaos = false;
  let resources: string | undefined;
  let ports: string | undefined;
  let preReserved: string | undefined;
  let secretsDir: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case "--state-dir":
        stateDir = value();
        break;
      case "--local-agents":
        agents = positive(flag, value(), true);
        break;
      case "--heartbeat-interval":
        heartbeatIntervalS = positive(flag, value(), false);
        break;
      case "--listen": {
        const m = /^(.+):(\d+)$/.exec(value());
        if (!m?.[1] || !m[2]) throw new Error("--listen expects host:port");
        listen = { host: m[1], port: Number(m[2]) };
        break;
      }
      case "--chaos":
        chaos = true;
        break;
      case "--resources":
        resources = value();
        parseAgentResources(resources);
        break;
      case "--ports":
        ports = checked(flag, value(), parsePortRanges);
        break;
      case "--pre-reserved":
        preReserved = checked(flag, value(), parsePreReserved);
        break;
      case "--secrets-dir":
        secretsDir = value();
        break;
      default:
        throw new Error(`unknown option ${String(flag)}`);
    }
  }
  if (stateDir === undefined) throw new Error("--state-dir is required");
  return {
    stateDir,
    agents,
    heartbeatIntervalS,
    chaos,
    ...(listen ? { listen } : {}),
    ...(resources !== undefined ? { resources } : {}),
    ...(ports !== undefined ? { ports } : {}),
    ...(preReserved !== undefined ? { preReserved } : {}),
    ...(secretsDir !== undefined ? { secretsDir } : {}),
  };
}

export function agentArgv(a: AgentArgs): string[] {
  return [
    "--state-dir", a.stateDir,
    "--local-agents", String(a.agents),
    "--heartbeat-interval", String(a.heartbeatIntervalS),
    ...(a.listen ? ["--listen", `${a.listen.host}:${a.listen.port}`] : []),
    ...(a.chaos ? ["--chaos"] : []),
    ...(a.resources !== undefined ? ["--resources", a.resources] : []),
    ...(a.ports !== undefined ? ["--ports", a.ports] : []),
    ...(a.preReserved !== undefined ? ["--pre-reserved", a.preReserved] : []),
    ...(a.secretsDir !== undefined ? ["--secrets-dir", a.secretsDir] : []),
  ];
}

/** `text` when `parse` accepts it; else an Error naming the flag. */
function checked(flag: string | undefined, text: string, parse: (t: string) => unknown): string {
  try {
    parse(text);
  } catch (err) {
    throw new Error(`${String(flag)} ${(err as Error).message}`);
  }
  return text;
}

function positive(flag: string, text: string, integer: boolean): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new Error(`${flag} expects a positive ${integer ? "integer" : "number"}, got ${text}`);
  return n;
}
