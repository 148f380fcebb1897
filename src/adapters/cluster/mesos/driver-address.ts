/**
 * `--master`: where the Mesos master is (mesos-v1-api.md §1, §5). `http(s)://host[:port][/prefix]`,
 * `zk://host1:2181,host2:2181/mesos` (the leader is found in ZooKeeper) or `unix:/abs/agent.sock`
 * (the local agent).
 */
import { isAbsolute } from "node:path";
import { SchedulerError } from "../../../domain/errors.js";

/** Where the master is. */
export type MasterAddress =
  /** `http://host:5050` or `https://host:5050` (a path prefix is kept). */
  | { readonly kind: "http"; readonly url: URL }
  /** The local agent's Unix socket (`unix:/path/agent.sock`). */
  | { readonly kind: "unix"; readonly socketPath: string }
  /** `zk://host1:2181,host2:2181/mesos`: the leader is the `json.info_` member with the smallest sequence. */
  | { readonly kind: "zk"; readonly servers: string; readonly path: string };

const ZK_SERVER = /^[A-Za-z0-9.-]+(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$/;

/** Parses `--master`: http(s)://…, zk://…, unix:/path. Throws invalid_argument with the reason. */
export function parseMasterAddress(spec: string): MasterAddress {
  const s = spec.trim();
  if (s.startsWith("unix:")) {
    const socketPath = s.slice("unix:".length).replace(/^\/\/(?=\/)/, "");
    if (!isAbsolute(socketPath)) invalid(spec, "a unix: address needs an absolute socket path (unix:/path/agent.sock)");
    return { kind: "unix", socketPath };
  }
  if (s.startsWith("zk://")) return parseZk(spec, s.slice("zk://".length));
  if (s.startsWith("http://") || s.startsWith("https://")) {
    let url: URL;
    try {
      url = new URL(s);
    } catch {
      return invalid(spec, "not a valid URL");
    }
    if (url.hostname === "") invalid(spec, "the URL names no host");
    if (url.username !== "" || url.password !== "") invalid(spec, "put the credential in --mesos-secret-file, not in the URL");
    if (url.search !== "" || url.hash !== "") invalid(spec, "a master URL takes no query or fragment");
    const prefix = url.pathname.replace(/\/+$/, "");
    return { kind: "http", url: new URL(`${url.protocol}//${url.host}${prefix}`) };
  }
  return invalid(spec, "expected http://host:5050, https://host:5050, zk://host:2181/mesos or unix:/path/agent.sock");
}

function parseZk(spec: string, rest: string): MasterAddress {
  const slash = rest.indexOf("/");
  if (slash < 0) invalid(spec, "a zk:// address needs the znode path (zk://host:2181/mesos)");
  const servers = rest.slice(0, slash);
  const path = rest.slice(slash).replace(/\/+$/, "");
  if (servers.includes("@")) invalid(spec, "ZooKeeper authentication (user:password@) is not supported");
  const list = servers.split(",");
  if (servers === "" || !list.every((h) => ZK_SERVER.test(h))) invalid(spec, "expected host[:port] servers separated by commas");
  if (path === "" || path.includes("//") || /[\s?#]/.test(path)) invalid(spec, "the znode path must be absolute, like /mesos");
  return { kind: "zk", servers, path };
}

function invalid(spec: string, reason: string): never {
  throw new SchedulerError("invalid_argument", `--master ${JSON.stringify(spec.slice(0, 200))}: ${reason}`, {
    violations: [{ field: "master", reason }],
  });
}
