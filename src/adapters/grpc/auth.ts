/**
 * API security of the gRPC edge. PutService runs commands on this machine, so the API listens
 * on loopback unless it is protected by a bearer token (`--auth-token-file`), mutual TLS
 * (`--tls-cert`, `--tls-key`, `--tls-client-ca`) or both; a non-loopback address with neither
 * refuses to start. The token guards every corral.v1.MultiServiceAdmin RPC (streams too);
 * grpc.health.v1.Health and server reflection stay open. Mutual TLS guards the whole port.
 */
import { X509Certificate, createHash, createPrivateKey, timingSafeEqual } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { isIP } from "node:net";
import * as grpc from "@grpc/grpc-js";
import { SchedulerError } from "../../domain/errors.js";
import type { Logger } from "../../engine/ports.js";
import { toServiceError } from "./status.js";

/** PEM material of mutual TLS: the server's chain and key, and the CA that signs client certs. */
export interface ServerTls {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly clientCa: Buffer;
}

/** What the AdminServer enforces; both may be given. */
export interface ApiSecurity {
  /** Bearer token every MultiServiceAdmin call must present. */
  readonly authToken?: string;
  readonly tls?: ServerTls;
}

/** The files named by `--auth-token-file`, `--tls-cert`, `--tls-key` and `--tls-client-ca`. */
export interface ApiSecurityFiles {
  readonly authTokenFile?: string | undefined;
  readonly tlsCert?: string | undefined;
  readonly tlsKey?: string | undefined;
  readonly tlsClientCa?: string | undefined;
}

/** Metadata key of the bearer token: `authorization: Bearer <token>`. */
export const AUTHORIZATION_METADATA_KEY = "authorization";

/** "127.0.0.1:0" → "127.0.0.1", "[::1]:0" → "::1", "localhost" → "localhost". */
export function hostOf(address: string): string {
  const target = address.replace(/^dns:(\/\/\/)?/, "");
  const bracketed = /^\[([^\]]+)\]/.exec(target);
  if (bracketed?.[1] !== undefined) return bracketed[1];
  const colon = target.lastIndexOf(":");
  return colon === -1 ? target : target.slice(0, colon);
}

/** 127.0.0.0/8, ::1 (also IPv4-mapped 127/8) and `localhost`; anything else is not loopback. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  if (h === "localhost") return true;
  if (isIP(h) === 4) return h.startsWith("127.");
  if (isIP(h) !== 6) return false;
  try {
    const canonical = new URL(`http://[${h}]/`).hostname;
    return canonical === "[::1]" || /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(canonical);
  } catch {
    return false;
  }
}

/**
 * Why this configuration must not start, or undefined: TLS needs all three files, and a
 * non-loopback listen address needs a token or mutual TLS. Looks at which files are named only.
 */
export function apiSecurityProblem(listen: string, files: ApiSecurityFiles): string | undefined {
  const tls = [files.tlsCert, files.tlsKey, files.tlsClientCa];
  if (tls.some((f) => f !== undefined) && !tls.every((f) => f !== undefined)) {
    const missing = (["--tls-cert", "--tls-key", "--tls-client-ca"] as const).filter((_, i) => tls[i] === undefined);
    return `mutual TLS needs --tls-cert, --tls-key and --tls-client-ca together; missing ${missing.join(", ")}`;
  }
  return listenProblem(listen, files.authTokenFile !== undefined, tls.every((f) => f !== undefined));
}

/** Why the API must not listen on `address` with this protection, or undefined. */
export function listenProblem(address: string, token: boolean, tls: boolean): string | undefined {
  if (token || tls || isLoopbackHost(hostOf(address))) return undefined;
  return (
    `refusing to listen on ${address} without authentication: PutService runs commands on this machine. ` +
    "Give --auth-token-file FILE (a bearer token), or --tls-cert, --tls-key and --tls-client-ca (mutual TLS), " +
    "or listen on a loopback address such as 127.0.0.1:50051"
  );
}

/**
 * Reads and checks the named files: throws an Error saying what to fix when the combination is
 * refused, a file is unreadable, or the token file is empty or readable by every user.
 */
export function loadApiSecurity(listen: string, files: ApiSecurityFiles): ApiSecurity {
  const problem = apiSecurityProblem(listen, files);
  if (problem !== undefined) throw new Error(problem);
  const authToken = files.authTokenFile === undefined ? undefined : readTokenFile(files.authTokenFile);
  const tls =
    files.tlsCert === undefined || files.tlsKey === undefined || files.tlsClientCa === undefined
      ? undefined
      : readTls(files.tlsCert, files.tlsKey, files.tlsClientCa);
  return { ...(authToken !== undefined ? { authToken } : {}), ...(tls !== undefined ? { tls } : {}) };
}

function readTokenFile(path: string): string {
  let mode: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new Error("not a regular file");
    mode = stat.mode;
  } catch (err) {
    throw new Error(`--auth-token-file ${path}: ${reason(err)}`, { cause: err });
  }
  if ((mode & 0o004) !== 0) {
    const octal = (mode & 0o777).toString(8).padStart(3, "0");
    throw new Error(
      `--auth-token-file ${path} is readable by every user (mode ${octal}), so anyone on this machine could ` +
        `use the API; run chmod 600 ${path}`,
    );
  }
  const token = readFlagFile("--auth-token-file", path).toString("utf8").trim();
  if (token === "") throw new Error(`--auth-token-file ${path} is empty; put a secret in it, e.g. openssl rand -hex 32`);
  if (!/^[\x20-\x7e]+$/.test(token)) {
    throw new Error(`--auth-token-file ${path}: the token must be printable ASCII (it travels in a gRPC header)`);
  }
  return token;
}

/** Reads the PEM files and checks that they parse and that the key belongs to the certificate. */
function readTls(certFile: string, keyFile: string, caFile: string): ServerTls {
  const tls = {
    cert: readFlagFile("--tls-cert", certFile),
    key: readFlagFile("--tls-key", keyFile),
    clientCa: readFlagFile("--tls-client-ca", caFile),
  };
  const parse = <T>(flag: string, path: string, what: string, f: () => T): T => {
    try {
      return f();
    } catch (err) {
      throw new Error(`${flag} ${path}: not a PEM ${what} (${reason(err)})`, { cause: err });
    }
  };
  const cert = parse("--tls-cert", certFile, "certificate", () => new X509Certificate(tls.cert));
  const key = parse("--tls-key", keyFile, "private key", () => createPrivateKey(tls.key));
  parse("--tls-client-ca", caFile, "certificate", () => new X509Certificate(tls.clientCa));
  if (!cert.checkPrivateKey(key)) throw new Error(`--tls-key ${keyFile} is not the key of --tls-cert ${certFile}`);
  return tls;
}

function readFlagFile(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`${flag} ${path}: ${reason(err)}`, { cause: err });
  }
}

function reason(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === "ENOENT") return "no such file";
  if (code === "EACCES") return "permission denied";
  return err instanceof Error ? err.message : String(err);
}

/** Server credentials: mutual TLS requiring a client certificate signed by `clientCa`, or plaintext. */
export function serverCredentials(tls: ServerTls | undefined): grpc.ServerCredentials {
  if (tls === undefined) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(tls.clientCa, [{ cert_chain: tls.cert, private_key: tls.key }], true);
}

const sha256 = (value: string): Buffer => createHash("sha256").update(value, "utf8").digest();

/**
 * A grpc-js server interceptor requiring `authorization: Bearer <token>` on every call whose
 * path starts with one of `prefixes` (e.g. "/corral.v1.MultiServiceAdmin/"); other services
 * pass. The comparison is constant time over SHA-256 digests; failures answer UNAUTHENTICATED
 * without echoing what was sent, and are logged at warn level with method and peer.
 */
export function bearerTokenInterceptor(token: string, prefixes: readonly string[], log: Logger): grpc.ServerInterceptor {
  const expected = sha256(token);
  return (method, call) => {
    if (!prefixes.some((p) => method.path.startsWith(p))) return new grpc.ServerInterceptingCall(call);
    return new grpc.ServerInterceptingCall(call, {
      start: (next) => {
        next({
          onReceiveMetadata: (metadata, pass) => {
            const refusal = checkBearer(metadata, expected);
            if (refusal === undefined) return pass(metadata);
            log.warn({ method: method.path, code: "UNAUTHENTICATED", peer: call.getPeer() }, "rpc refused");
            const error = toServiceError(new SchedulerError("unauthenticated", refusal), log);
            call.sendStatus({ code: error.code, details: error.details, metadata: error.metadata });
          },
        });
      },
    });
  };
}

/** Why the call's metadata does not carry the token, or undefined when it does. */
function checkBearer(metadata: grpc.Metadata, expected: Buffer): string | undefined {
  const values = metadata.get(AUTHORIZATION_METADATA_KEY);
  if (values.length === 0) {
    return 'missing credentials: send metadata "authorization: Bearer <token>" with the token of --auth-token-file';
  }
  const match = values.length === 1 && typeof values[0] === "string" ? /^bearer[ \t]+(.*)$/i.exec(values[0]) : null;
  if (match?.[1] === undefined) return 'malformed authorization metadata: expected "Bearer <token>"';
  return timingSafeEqual(sha256(match[1].trim()), expected) ? undefined : "invalid bearer token";
}
