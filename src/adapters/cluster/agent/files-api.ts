/**
 * The sandboxes as a Mesos agent serves them: `GET /files/browse?path=P` (a JSON array of
 * FileInfo) and `GET /files/read?path=P&offset=N&length=M` ({"data", "offset"}). Virtual paths:
 * `/frameworks/<fid>/tasks/<taskId>` is a task's sandbox, `…/stdout` and `…/stderr` its output.
 * Reads go through the runtime's TaskFiles, which never leaves the sandbox and refuses anything
 * but a regular file (400). `data` maps each byte to one code point U+0000–U+00FF (latin1), so
 * bytes round-trip (documented deviation: Mesos sends the bytes as a JSON string of UTF-8 text).
 */
import type { Stats } from "node:fs";
import { lstat, readdir } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";
import { SchedulerError } from "../../../domain/errors.js";
import type { TaskFileName, TaskSandbox } from "../../../engine/ports.js";
import type { FrameworkHost } from "./framework-host.js";
import type { Frameworks } from "./frameworks.js";
import { reply, replyJson } from "./http-util.js";

/** Longest read served at once when `length` is not given. */
const DEFAULT_READ_BYTES = 1024 * 1024;
const SANDBOX_PATH = /^\/frameworks\/([^/]+)\/tasks\/([^/]+)(?:\/([^/]+))?\/?$/;
const FILES: readonly string[] = ["stdout", "stderr"];

interface Target {
  readonly host: FrameworkHost;
  readonly taskId: string;
  readonly agentId: string;
  readonly sandbox: TaskSandbox;
  readonly file: string | undefined;
}

export async function filesApi(frameworks: Frameworks, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  if (req.method !== "GET") return reply(res, 405, "Expecting 'GET'", { Allow: "GET" });
  const path = url.searchParams.get("path");
  if (path === null) return reply(res, 400, "Expecting 'path' to be present");
  const target = await locate(frameworks, path);
  if (!target) return reply(res, 404, `No such file or directory: ${path}`);
  if (url.pathname === "/files/browse") return browse(res, target);
  return read(res, target, url);
}

async function locate(frameworks: Frameworks, path: string): Promise<Target | undefined> {
  const m = SANDBOX_PATH.exec(path);
  if (!m?.[1] || !m[2]) return undefined;
  const host = frameworks.sandboxHost(m[1]);
  if (!host) return undefined;
  const taskId = m[2];
  const file = m[3];
  if (file !== undefined && !FILES.includes(file)) return undefined;
  const known = host.sim.tasks().find((t) => t.taskId === taskId)?.agentId;
  for (const agentId of known !== undefined ? [known] : frameworks.agentIds) {
    const sandbox = await host.runtime.files.sandboxOf(taskId, agentId);
    if (sandbox) return { host, taskId, agentId, sandbox, file };
  }
  return undefined;
}

async function browse(res: ServerResponse, t: Target): Promise<void> {
  const names = t.file !== undefined ? [t.file] : [...FILES];
  const infos = [];
  for (const name of names) {
    const full = join(t.sandbox.path, name);
    let st: Stats;
    try {
      st = await lstat(full);
    } catch {
      continue;
    }
    infos.push(fileInfo(full, st));
  }
  if (t.file !== undefined && infos.length === 0) return reply(res, 404, `No such file or directory: ${t.file}`);
  if (t.file === undefined) {
    // The sandbox's other entries (names only matter to a browser), never followed.
    for (const name of await readdir(t.sandbox.path).catch(() => [] as string[])) {
      if (FILES.includes(name)) continue;
      const full = join(t.sandbox.path, name);
      const st = await lstat(full).catch(() => undefined);
      if (st) infos.push(fileInfo(full, st));
    }
  }
  replyJson(res, 200, infos);
}

function fileInfo(path: string, st: Stats): Record<string, unknown> {
  return { path, nlink: st.nlink, size: st.size, mtime: Math.floor(st.mtimeMs / 1000), mode: st.mode, uid: st.uid, gid: st.gid };
}

async function read(res: ServerResponse, t: Target, url: URL): Promise<void> {
  if (t.file === undefined) return reply(res, 400, "Cannot read a directory");
  const offset = intParam(url, "offset", 0);
  const length = intParam(url, "length", DEFAULT_READ_BYTES);
  if (offset === undefined || offset < -1 || length === undefined || length < 0) return reply(res, 400, "Expecting 'offset' ≥ -1 and 'length' ≥ 0 to be integers");
  try {
    const chunk = await t.host.runtime.files.readFile(t.taskId, t.agentId, t.file as TaskFileName, Math.max(0, offset), offset === -1 ? 0 : length);
    if (!chunk) return reply(res, 404, `No such file or directory: ${t.file}`);
    if (offset === -1) return replyJson(res, 200, { data: "", offset: chunk.size });
    replyJson(res, 200, { data: Buffer.from(chunk.data).toString("latin1"), offset: chunk.offset });
  } catch (err) {
    if (err instanceof SchedulerError && err.code === "failed_precondition") return reply(res, 400, err.message);
    throw err;
  }
}

function intParam(url: URL, name: string, fallback: number): number | undefined {
  const v = url.searchParams.get(name);
  if (v === null || v === "") return fallback;
  return /^-?\d+$/.test(v) && Number.isSafeInteger(Number(v)) ? Number(v) : undefined;
}
