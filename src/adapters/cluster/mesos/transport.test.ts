import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { addressOf, closeDrivers, FRAMEWORK, makeDriver } from "../../../../test/fixtures/mesos/driver-kit.js";
import { ScriptedMaster, waitFor } from "../../../../test/fixtures/mesos/scripted-master.js";
import { tempDir } from "../../../../test/use-temp-dir.js";
import { FakeClock } from "../../fake-clock.js";
import { redirectTarget, Transport } from "./transport.js";

describe("redirectTarget", () => {
  it("resolves a scheme-less Location against the scheme used, keeping a path prefix", () => {
    const from = { kind: "http" as const, url: new URL("https://m1.example:5050") };
    const to = redirectTarget(from, "//m2.example:5050/api/v1/scheduler", "/api/v1/scheduler");
    expect(to).toEqual({ kind: "http", url: new URL("https://m2.example:5050") });
    const prefixed = redirectTarget(from, "//m2.example:5050/mesos/api/v1/scheduler", "/api/v1/scheduler");
    expect(prefixed.kind === "http" && prefixed.url.href).toBe("https://m2.example:5050/mesos");
  });

  it("takes http for a redirect away from a Unix socket", () => {
    const to = redirectTarget({ kind: "unix", socketPath: "/x/agent.sock" }, "//127.0.0.1:7000/api/v1/scheduler", "/api/v1/scheduler");
    expect(to.kind === "http" && to.url.href).toBe("http://127.0.0.1:7000/");
  });

  it("refuses a Location to another protocol", () => {
    expect(() => redirectTarget({ kind: "unix", socketPath: "/s" }, "file:///etc/passwd", "/api/v1/scheduler")).toThrow(/only http and https/);
  });
});

describe("https masters", () => {
  let dir = "";
  let tls: { key: string; cert: string };
  beforeAll(() => {
    dir = tempDir("mesos-tls");
    // A self-signed certificate for 127.0.0.1; it is its own CA.
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
      "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-days", "1",
      "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
    ], { stdio: "ignore" });
    tls = { key: readFileSync(join(dir, "key.pem"), "utf8"), cert: readFileSync(join(dir, "cert.pem"), "utf8") };
  });
  const masters: ScriptedMaster[] = [];
  afterEach(async () => {
    await closeDrivers();
    for (const m of masters.splice(0)) await m.close();
  });

  it("subscribes and calls over https when the CA file is given", async () => {
    const m = await ScriptedMaster.start({ tls });
    masters.push(m);
    const kit = makeDriver(addressOf(m.endpoint), { caFile: join(dir, "cert.pem"), credential: { principal: "p", secret: "s" } });
    await kit.driver.subscribe(FRAMEWORK, kit.events);
    await kit.driver.kill("t");
    expect(m.calls("KILL")[0]!.headers["mesos-stream-id"]).toBe(m.stream.streamId);
    expect(m.subscribes[0]!.headers.authorization).toBe(`Basic ${Buffer.from("p:s").toString("base64")}`);
  });

  it("without the CA file the certificate is refused and nothing subscribes", async () => {
    const m = await ScriptedMaster.start({ tls });
    masters.push(m);
    const kit = makeDriver(addressOf(m.endpoint));
    void kit.driver.subscribe(FRAMEWORK, kit.events).catch(() => undefined);
    await waitFor(() => kit.log.messages("warn").includes("SUBSCRIBE failed"), "the TLS failure");
    const entry = kit.log.entries.find((e) => e.msg === "SUBSCRIBE failed")!;
    expect(String((entry.obj as { err: Error }).err.message)).toMatch(/self[- ]signed/i);
    expect(m.subscribes).toHaveLength(0);
    expect(kit.events.subscribedIds).toEqual([]);
  });

  it("a missing CA file is an invalid_argument naming --mesos-ca-file", () => {
    expect(() => new Transport({ clock: new FakeClock(), caFile: join(dir, "nope.pem") })).toThrow(/--mesos-ca-file/);
  });
});
