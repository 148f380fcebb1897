import { CommanderError } from "commander";
import { describe, expect, it } from "vitest";
import { resolveOptions } from "./config.js";

function refused(argv: string[], env: NodeJS.ProcessEnv = {}): string {
  let stderr = "";
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string) => ((stderr += chunk), true)) as typeof process.stderr.write;
  try {
    resolveOptions(argv, env);
  } catch (err) {
    if (err instanceof CommanderError) return stderr;
    throw err;
  } finally {
    process.stderr.write = write;
  }
  throw new Error(`accepted ${argv.join(" ")}`);
}

describe("replica, metrics and tracing options", () => {
  it("serves metrics on loopback by default, on a given address, or not at all", () => {
    expect(resolveOptions([], {})).toMatchObject({ metricsListen: "127.0.0.1:9464", metricsListenExplicit: false });
    expect(resolveOptions(["--metrics-listen", ":9500"], {})).toMatchObject({ metricsListen: "127.0.0.1:9500", metricsListenExplicit: true });
    expect(resolveOptions([], { CORRAL_METRICS_LISTEN: "0.0.0.0:9100" })).toMatchObject({ metricsListen: "0.0.0.0:9100", metricsListenExplicit: true });
    const off = resolveOptions(["--metrics-listen", "off"], {});
    expect(off.metricsListen).toBeUndefined();
  });

  it.each([["garbage"], ["127.0.0.1:"], ["127.0.0.1:99999"], ["http://x:1"]])("refuses --metrics-listen %s in one line", (given) => {
    expect(refused(["--metrics-listen", given])).toMatch(/^corral: --metrics-listen \/ CORRAL_METRICS_LISTEN must be host:port \(port 0–65535\) or off\n$/);
  });

  it("takes the session timeout in seconds, within what ZooKeeper can grant", () => {
    expect(resolveOptions(["--zk-session-timeout", "4"], {}).zkSessionTimeoutMs).toBe(4000);
    expect(resolveOptions([], { CORRAL_ZK_SESSION_TIMEOUT: "2.5" }).zkSessionTimeoutMs).toBe(2500);
    for (const bad of ["0", "-5", "abc", "0.5", "121"]) {
      expect(refused(["--zk-session-timeout", bad])).toMatch(/^corral: --zk-session-timeout \/ CORRAL_ZK_SESSION_TIMEOUT must be a number of seconds from 1 to 120/);
    }
  });

  it("finds the OTLP endpoint in the flag, Corral's variable, or OpenTelemetry's own", () => {
    expect(resolveOptions([], {}).otlpEndpoint).toBeUndefined();
    expect(resolveOptions(["--otlp-endpoint", "http://c:4318/v1/traces"], {}).otlpEndpoint).toBe("http://c:4318/v1/traces");
    expect(resolveOptions([], { OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318/" }).otlpEndpoint).toBe("http://c:4318/v1/traces");
    expect(resolveOptions([], { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://t:1/x", OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" }).otlpEndpoint).toBe("http://t:1/x");
    expect(refused(["--otlp-endpoint", "c:4318"])).toMatch(/^corral: --otlp-endpoint must be an http\(s\) URL/);
  });

  it("bounds the traces recorded a second: 10 by default, a number, or all", () => {
    expect(resolveOptions([], {}).tracesPerSecond).toBe(10);
    expect(resolveOptions(["--traces-per-second", "2.5"], {}).tracesPerSecond).toBe(2.5);
    expect(resolveOptions(["--traces-per-second", "0"], {}).tracesPerSecond).toBe(0);
    expect(resolveOptions(["--traces-per-second", "all"], {}).tracesPerSecond).toBe(Number.POSITIVE_INFINITY);
    expect(resolveOptions([], { CORRAL_TRACES_PER_SECOND: "all" }).tracesPerSecond).toBe(Number.POSITIVE_INFINITY);
    for (const bad of ["-1", "ten", "", "1e3", "2000000"]) {
      expect(refused(["--traces-per-second", bad])).toMatch(/^corral: --traces-per-second \/ CORRAL_TRACES_PER_SECOND must be a number of traces \(0 to 1000000\) or all/);
    }
  });

  it("checks --advertise-address is host:port", () => {
    expect(resolveOptions(["--advertise-address", "sched-1.example:50051"], {}).advertiseAddress).toBe("sched-1.example:50051");
    expect(refused(["--advertise-address", "sched-1"])).toMatch(/^corral: --advertise-address \/ CORRAL_ADVERTISE_ADDRESS must be host:port/);
  });
});
