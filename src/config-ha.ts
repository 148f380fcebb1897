/**
 * The scheduler's high-availability and observability options: the address its replicas tell
 * clients (`--advertise-address`), the ZooKeeper session timeout that bounds a failover, the
 * Prometheus endpoint (`--metrics-listen`) and the OTLP trace exporter (`--otlp-endpoint`,
 * `--traces-per-second`).
 */
import { Option } from "commander";
import type { Command } from "commander";
import { ERROR_PREFIX } from "./error-prefix.js";

/**
 * New traces recorded a second, at most, when tracing is on (trace-budget.ts). Every recorded
 * span costs the event loop CPU: recording every trace adds about 10 % to PutService at full
 * load (bench q), past the 5 % budget of issue 17. Ten a second records everything an operator
 * does by hand and bounds the cost under load; `all` records every trace (debugging).
 */
export const DEFAULT_TRACES_PER_SECOND = 10;

/** The port OpenTelemetry's Prometheus exporter uses by default; loopback only. */
export const DEFAULT_METRICS_LISTEN = "127.0.0.1:9464";

export interface HaOptions {
  /**
   * "host:port" a standby names as the leader's address (trailer `corral-leader`), stored in the
   * leader's election node. @default the API's listen address, its port as bound; a wildcard
   * host (0.0.0.0, ::) becomes this machine's host name
   */
  readonly advertiseAddress?: string;
  /**
   * ZooKeeper session timeout: a killed leader's election node goes after it, so a standby takes
   * over about this long after the kill. @default 10_000
   */
  readonly zkSessionTimeoutMs?: number;
  /** host:port of the Prometheus `/metrics` endpoint; absent: none is served. */
  readonly metricsListen?: string;
  /**
   * True when `metricsListen` was given (flag or CORRAL_METRICS_LISTEN): a port in use then stops
   * the start. The default's port in use is only warned about (a second scheduler on the machine).
   */
  readonly metricsListenExplicit?: boolean;
  /** OTLP/HTTP traces endpoint (e.g. http://127.0.0.1:4318/v1/traces); absent: tracing is off. */
  readonly otlpEndpoint?: string;
  /** New traces recorded a second at most; Infinity: all (DEFAULT_TRACES_PER_SECOND). */
  readonly tracesPerSecond?: number;
}

export function addHaOptions(program: Command, env: NodeJS.ProcessEnv): Command {
  return program
    .addOption(new Option("--advertise-address <host:port>", "the address other replicas send clients to while this one leads (CORRAL_ADVERTISE_ADDRESS; default: --listen as bound)").default(env["CORRAL_ADVERTISE_ADDRESS"]))
    .addOption(new Option("--zk-session-timeout <seconds>", "ZooKeeper session timeout; a standby takes over about this long after the leader dies (CORRAL_ZK_SESSION_TIMEOUT)").default(env["CORRAL_ZK_SESSION_TIMEOUT"] ?? "10"))
    .addOption(new Option("--metrics-listen <host:port|off>", `Prometheus /metrics address, or off (CORRAL_METRICS_LISTEN; default ${DEFAULT_METRICS_LISTEN})`).default(env["CORRAL_METRICS_LISTEN"]))
    .addOption(
      new Option("--otlp-endpoint <url>", "send traces (OTLP/HTTP) here; off when unset (CORRAL_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)").default(
        env["CORRAL_OTLP_ENDPOINT"] ?? env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] ?? otlpBase(env["OTEL_EXPORTER_OTLP_ENDPOINT"]),
      ),
    )
    .addOption(
      new Option("--traces-per-second <n|all>", `new traces recorded a second at most, each with all its spans; all: every one (CORRAL_TRACES_PER_SECOND; default ${DEFAULT_TRACES_PER_SECOND})`).default(
        env["CORRAL_TRACES_PER_SECOND"] ?? String(DEFAULT_TRACES_PER_SECOND),
      ),
    );
}

/** OTEL_EXPORTER_OTLP_ENDPOINT is a base URL: traces go to `<base>/v1/traces` (the OTLP spec). */
function otlpBase(base: string | undefined): string | undefined {
  return base ? `${base.replace(/\/+$/, "")}/v1/traces` : undefined;
}

export function haOptions(program: Command): HaOptions {
  const o = program.opts<{ advertiseAddress?: string; zkSessionTimeout: string; metricsListen?: string; otlpEndpoint?: string; tracesPerSecond: string }>();
  const timeoutS = Number(o.zkSessionTimeout);
  // ZooKeeper servers clamp the timeout to [2, 20] ticks (4–40 s with the default 2 s tick).
  if (!Number.isFinite(timeoutS) || timeoutS < 1 || timeoutS > 120) {
    program.error(`${ERROR_PREFIX}--zk-session-timeout / CORRAL_ZK_SESSION_TIMEOUT must be a number of seconds from 1 to 120`);
  }
  if (o.advertiseAddress !== undefined && !/^[^\s/]+:\d{1,5}$/.test(o.advertiseAddress)) {
    program.error(`${ERROR_PREFIX}--advertise-address / CORRAL_ADVERTISE_ADDRESS must be host:port`);
  }
  const given = o.metricsListen;
  const port = given === undefined ? 0 : Number(given.slice(given.lastIndexOf(":") + 1));
  if (given !== undefined && given !== "off" && (!/^[^\s/]*:\d{1,5}$/.test(given) || port > 65535)) {
    program.error(`${ERROR_PREFIX}--metrics-listen / CORRAL_METRICS_LISTEN must be host:port (port 0–65535) or off`);
  }
  if (o.otlpEndpoint !== undefined && !/^https?:\/\/[^/\s]+/.test(o.otlpEndpoint)) {
    program.error(`${ERROR_PREFIX}--otlp-endpoint must be an http(s) URL, e.g. http://127.0.0.1:4318/v1/traces`);
  }
  const traces = o.tracesPerSecond.trim();
  const perSecond = traces === "all" ? Number.POSITIVE_INFINITY : /^\d+(\.\d+)?$/.test(traces) ? Number(traces) : Number.NaN;
  if (Number.isNaN(perSecond) || (perSecond > 1_000_000 && traces !== "all")) {
    program.error(`${ERROR_PREFIX}--traces-per-second / CORRAL_TRACES_PER_SECOND must be a number of traces (0 to 1000000) or all`);
  }
  const metrics = given === undefined ? DEFAULT_METRICS_LISTEN : given === "off" ? undefined : given.startsWith(":") ? `127.0.0.1${given}` : given;
  return {
    ...(o.advertiseAddress !== undefined ? { advertiseAddress: o.advertiseAddress } : {}),
    zkSessionTimeoutMs: Math.round(timeoutS * 1000),
    ...(metrics !== undefined ? { metricsListen: metrics } : {}),
    metricsListenExplicit: given !== undefined,
    ...(o.otlpEndpoint ? { otlpEndpoint: o.otlpEndpoint } : {}),
    tracesPerSecond: perSecond,
  };
}
