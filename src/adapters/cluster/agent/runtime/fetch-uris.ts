/**
 * The task's URIs (CommandInfo.uris) fetched into its sandbox before it starts, as Mesos'
 * fetcher does: http(s) downloaded (redirects followed, with a timeout), file:// and absolute
 * paths copied (read as the task's user: a task cannot fetch what its user could not read),
 * each to its output file or the URI's last path segment; then made executable or unpacked.
 * Every failure is a FetchError whose message names the URI and why. `cache` is not honoured:
 * there is no fetcher cache here, every launch fetches again.
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { chmodSync, chownSync, closeSync, createWriteStream, mkdirSync, openSync, renameSync, rmSync } from "node:fs";
import { dirname, join, normalize, posix } from "node:path";
import { Readable } from "node:stream";
import { finished, pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { fileURLToPath } from "node:url";
import type { CommandUri } from "../../../../domain/cluster.js";
import { archiveKind, extract, isAgentFile } from "./archive.js";
import { assertNoLinkOnTheWay } from "./sandbox.js";
import type { Account } from "./sandbox.js";

export interface FetchContext {
  readonly sandbox: string;
  readonly account: Account | undefined;
  /** One URI's download (or copy) is given up after this long. */
  readonly timeoutMs: number;
  /** Aborted when the task is killed (or the agent stops) during the fetch. */
  readonly signal: AbortSignal;
}

export class FetchError extends Error {}

/** Fetches the URIs one after the other; throws a FetchError at the first that fails. */
export async function fetchUris(uris: readonly CommandUri[], c: FetchContext): Promise<void> {
  for (const uri of uris) await fetchOne(uri, c);
}

async function fetchOne(uri: CommandUri, c: FetchContext): Promise<void> {
  const fail = (why: string): FetchError => new FetchError(`Failed to fetch '${shown(uri.value)}': ${why}`);
  const name = outputName(uri);
  if (name === undefined) throw fail(uri.outputFile === undefined ? "it names no file; give it an output file" : `output file '${uri.outputFile}' is not a path inside the sandbox`);
  if (isAgentFile(name.split("/")[0]!)) throw fail(`'${name}' is a file the agent keeps in the sandbox`);
  const dest = join(c.sandbox, name);
  const tmp = join(c.sandbox, `.corral-fetch-${randomUUID()}`);
  try {
    const source = localPath(uri.value);
    if (/^https?:\/\//i.test(uri.value)) await download(uri.value, tmp, c);
    else if (source !== undefined) await copyAsUser(source, tmp, c);
    else throw new FetchError("unsupported URI (http://, https://, file:// or an absolute path)");
    if (c.account) chownSync(tmp, c.account.uid, c.account.gid);
    if (uri.executable === true) chmodSync(tmp, 0o755);
    assertNoLinkOnTheWay(c.sandbox, name);
    mkdirOwned(c.sandbox, dirname(name), c.account);
    renameSync(tmp, dest);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw fail(why(err, c.timeoutMs));
  }
  const kind = uri.executable === true || uri.extract === false ? undefined : archiveKind(name);
  if (!kind) return;
  try {
    await extract(dest, kind, c.sandbox, c.account, c.signal);
  } catch (err) {
    throw fail(`extracting it: ${why(err, c.timeoutMs)}`);
  }
}

/** The file name in the sandbox, relative; undefined when the URI names none or it would leave the sandbox. */
function outputName(uri: CommandUri): string | undefined {
  let name = uri.outputFile;
  if (name === undefined) {
    const path = localPath(uri.value) ?? urlPath(uri.value);
    name = path === undefined ? "" : posix.basename(path);
  }
  const rel = normalize(name).replace(/\/+$/, "");
  if (rel === "" || rel === "." || rel.startsWith("/") || rel === ".." || rel.startsWith("../")) return undefined;
  return rel;
}

function urlPath(value: string): string | undefined {
  try {
    return decodeURIComponent(new URL(value).pathname);
  } catch {
    return undefined;
  }
}

/** The local file a `file://` URI or an absolute path names. */
function localPath(value: string): string | undefined {
  if (value.startsWith("/")) return value;
  if (!/^file:\/\//i.test(value)) return undefined;
  try {
    return fileURLToPath(value);
  } catch {
    return undefined;
  }
}

async function download(url: string, tmp: string, c: FetchContext): Promise<void> {
  const res = await fetch(url, { redirect: "follow", signal: AbortSignal.any([c.signal, AbortSignal.timeout(c.timeoutMs)]) });
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    throw new FetchError(`${res.status} ${res.statusText}`.trim());
  }
  const file = createWriteStream(tmp, { flags: "wx", mode: 0o644 });
  if (!res.body) {
    // An empty 2xx (204): the file must exist, opened and closed, before it is moved.
    file.end();
    await finished(file);
    return;
  }
  await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), file);
}

/** Copies a local file, read by `cat` as the task's user (a task gets only what its user may read). */
async function copyAsUser(source: string, tmp: string, c: FetchContext): Promise<void> {
  const fd = openSync(tmp, "wx", 0o644);
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn("cat", ["--", source], {
        stdio: ["ignore", fd, "pipe"],
        signal: AbortSignal.any([c.signal, AbortSignal.timeout(c.timeoutMs)]),
        ...(c.account ? { uid: c.account.uid, gid: c.account.gid } : {}),
      });
      let err = "";
      child.stderr?.setEncoding("utf8").on("data", (d: string) => {
        if (err.length < 4096) err += d;
      });
      child.once("error", reject);
      child.once("close", (code) => {
        if (code === 0) resolve();
        else reject(new FetchError(err.trim().replace(/^cat: /, "") || `could not read ${source}`));
      });
    });
  } finally {
    closeSync(fd);
  }
}

/** Creates the sandbox subdirectory an output file goes to, owned by the task's user. */
function mkdirOwned(sandbox: string, rel: string, account: Account | undefined): void {
  if (rel === "." || rel === "") return;
  let at = sandbox;
  for (const part of rel.split("/")) {
    at = join(at, part);
    try {
      mkdirSync(at);
      if (account) chownSync(at, account.uid, account.gid);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
  }
}

/** Why a step failed, in words: a timeout, a cancellation, or the error with its cause. */
function why(err: unknown, timeoutMs: number): string {
  if (err instanceof FetchError) return err.message;
  const e = err as Error & { cause?: unknown };
  if (e?.name === "TimeoutError") return `timed out after ${Math.round(timeoutMs / 1000)} s`;
  if (e?.name === "AbortError") return "cancelled";
  const cause = e?.cause instanceof Error ? `: ${e.cause.message}` : "";
  return `${e?.message ?? String(err)}${cause}`;
}

/** The URI as messages show it: without a user or password it may carry. */
function shown(value: string): string {
  try {
    const url = new URL(value);
    if (!url.username && !url.password) return value;
    url.username = "";
    url.password = "";
    return url.toString();
  } catch {
    return value;
  }
}
