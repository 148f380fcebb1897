#!/usr/bin/env node
// Builds the `corral` CLI into one ES module, dist/cli/corral.mjs, which the bin
// (src/cli/corral) runs. Part of `npm run build` (and so of `npm ci`'s prepare), after tsc.
//
// Why a bundle: Node 20 loads the CLI's ~300 modules (grpc-js, protobuf-es with every
// well-known type, commander) one file at a time, and has no compile cache for ES modules
// (module.enableCompileCache is 22.1+). Resolving and compiling them cost `corral list` ~250 ms
// (~4 × a bare `node -e 0`); one file, with protobuf-es's unused modules tree-shaken away
// (it is marked side-effect free), costs ~150 ms (~2.3 ×). bench/cli.ts measures it.
//
// Usage: node src/cli/bundle.mjs [OUTFILE]   (default dist/cli/corral.mjs)
// The file is written under a temporary name and renamed, so a CLI started while the bundle is
// rebuilt (tests build it once per worker) never reads half a file.
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("../..", import.meta.url));
const outfile = resolve(process.argv[2] ?? `${root}/dist/cli/corral.mjs`);

const result = await build({
  absWorkingDir: root,
  entryPoints: ["src/cli/main.ts"],
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  outfile,
  write: false,
  logLevel: "warning",
  // grpc-js's channelz and admin services load @grpc/proto-loader (and protobufjs) only when
  // they are used, which the CLI never does: left out of the bundle, required at run time
  // should that ever change.
  external: ["@grpc/proto-loader"],
  // The bundled CommonJS packages (grpc-js, commander, cli-progress) call require() for Node's
  // built-in modules; an ES module has no require of its own.
  banner: { js: 'import { createRequire as __corralCreateRequire } from "node:module";\nconst require = __corralCreateRequire(import.meta.url);' },
  legalComments: "none",
  // Less text to scan when V8 compiles the module (~10% of a call); names are kept, so a stack
  // trace still says which function.
  minifyWhitespace: true,
  minifySyntax: true,
});

mkdirSync(dirname(outfile), { recursive: true });
for (const file of result.outputFiles) {
  const temporary = `${file.path}.${process.pid}.tmp`;
  writeFileSync(temporary, file.contents);
  renameSync(temporary, file.path);
}
