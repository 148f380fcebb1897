import { describe, expect, it } from "vitest";
import { SchedulerError } from "../../../domain/errors.js";
import { parseMasterAddress } from "./driver.js";

describe("parseMasterAddress", () => {
  it("reads http(s) URLs, keeping a path prefix", () => {
    expect(parseMasterAddress("http://m1:5050")).toEqual({ kind: "http", url: new URL("http://m1:5050") });
    const a = parseMasterAddress("https://mesos.example/prefix/");
    expect(a.kind === "http" && a.url.href).toBe("https://mesos.example/prefix");
  });

  it("reads zk:// with several servers and the znode path", () => {
    expect(parseMasterAddress("zk://h1:2181,h2:2181/mesos")).toEqual({ kind: "zk", servers: "h1:2181,h2:2181", path: "/mesos" });
    expect(parseMasterAddress("zk://10.0.0.1/a/b")).toEqual({ kind: "zk", servers: "10.0.0.1", path: "/a/b" });
  });

  it("reads unix:/abs/path", () => {
    expect(parseMasterAddress("unix:/var/lib/corral/agent.sock")).toEqual({ kind: "unix", socketPath: "/var/lib/corral/agent.sock" });
  });

  it.each([
    ["master:5050", /expected http/],
    ["ftp://m1", /expected http/],
    ["http://", /not a valid URL|no host/],
    ["http://user:pw@m1:5050", /--mesos-secret-file/],
    ["zk://h1:2181", /znode path/],
    ["zk://h1:2181/", /znode path/],
    ["zk://user:pw@h1:2181/mesos", /authentication/],
    ["zk://h 1:2181/mesos", /host\[:port\]/],
    ["unix:relative.sock", /absolute/],
  ])("refuses %s with the reason", (spec, reason) => {
    let err: unknown;
    try {
      parseMasterAddress(spec);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SchedulerError);
    expect(err).toMatchObject({ code: "invalid_argument" });
    expect((err as Error).message).toContain("--master");
    expect((err as Error).message).toMatch(reason);
  });
});
