/**
 * Test-time PKI for the mutual-TLS tests, made with the `openssl` CLI into a fresh temp dir
 * (never committed): a CA, a server cert for localhost/127.0.0.1, a client cert, and a client
 * cert from an unrelated CA. EC P-256 keeps generation fast.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./use-temp-dir.js";

export interface TestPki {
  readonly dir: string;
  /** Paths of PEM files. */
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
  readonly strangerCert: string;
  readonly strangerKey: string;
  /** Reads one of the paths above. */
  pem(path: string): Buffer;
}

const openssl = (dir: string, ...args: string[]): void => {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
};

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

function makeCa(dir: string, name: string): void {
  openssl(dir, "req", "-x509", "-new", ...EC, "-keyout", `${name}.key`, "-out", `${name}.crt`, "-days", "2",
    "-subj", `/CN=${name}`, "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
}

function makeLeaf(dir: string, ca: string, name: string, ext: string): void {
  writeFileSync(join(dir, `${name}.ext`), `basicConstraints=CA:FALSE\n${ext}\n`);
  openssl(dir, "req", "-new", ...EC, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`);
  openssl(dir, "x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.crt`, "-CAkey", `${ca}.key`, "-set_serial",
    `0x${Date.now().toString(16)}`, "-days", "2", "-out", `${name}.crt`, "-extfile", `${name}.ext`);
}

export function makeTestPki(): TestPki {
  const dir = tempDir("pki");
  makeCa(dir, "ca");
  makeLeaf(dir, "ca", "server", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth");
  makeLeaf(dir, "ca", "client", "extendedKeyUsage=clientAuth");
  makeCa(dir, "other-ca");
  makeLeaf(dir, "other-ca", "stranger", "extendedKeyUsage=clientAuth");
  const at = (f: string): string => join(dir, f);
  return {
    dir,
    caCert: at("ca.crt"),
    serverCert: at("server.crt"),
    serverKey: at("server.key"),
    clientCert: at("client.crt"),
    clientKey: at("client.key"),
    strangerCert: at("stranger.crt"),
    strangerKey: at("stranger.key"),
    pem: (path) => readFileSync(path),
  };
}
