/**
 * The `corral` CLI process: the only file of the CLI that reads argv, the environment and
 * signals. Ctrl-C cancels what is running (exit 130); a second Ctrl-C exits at once.
 */
import { run } from "./program.js";
import { EXIT } from "./errors.js";

// `corral list | head`: a reader that went away is not an error.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(EXIT.OK);
  throw err;
});

const interrupt = new AbortController();
process.on("SIGINT", () => {
  if (interrupt.signal.aborted) process.exit(EXIT.INTERRUPTED);
  interrupt.abort();
});

const code = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  signal: interrupt.signal,
});
process.exitCode = code;
// Let stdout drain; should anything still hold the event loop, do not hang on it.
setTimeout(() => process.exit(code), 2000).unref();
