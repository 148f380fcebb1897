/**
 * The scheduler process: the only place that reads argv and the environment. Stops gracefully
 * on SIGTERM/SIGINT: the API stops taking calls, in-flight engine work drains, then exit 0.
 *
 * Run it as `node --import tsx src/main.ts` (what `npm start` execs, so npm's only child is
 * this process and npm passes SIGINT/SIGTERM on to it) or `node dist/src/main.js` after
 * `npm run build`. A fatal error prints one line, `corral: <what went wrong>`, and exits 1.
 */
import { CommanderError } from "commander";
import type pino from "pino";
import { startCorral } from "./app.js";
import type { Corral } from "./app.js";
import { ERROR_PREFIX, resolveOptions } from "./config.js";
import { createLogger } from "./logger.js";

async function main(): Promise<void> {
  let options;
  try {
    options = resolveOptions(process.argv.slice(2), process.env, process.stdout.isTTY);
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode); // commander printed why
    throw err;
  }
  const logger = await createLogger({
    level: options.logLevel,
    format: options.logFormat,
    colorize: process.stdout.isTTY && !process.env["NO_COLOR"],
  });
  const stopper = new Stopper(logger);
  // Before start-up, so a signal that arrives while starting stops the scheduler once it is up
  // (instead of killing it half-started). A second signal changes nothing: npm passes a
  // terminal's Ctrl-C on to its child, which then sees SIGINT twice.
  process.on("SIGTERM", () => stopper.stop("SIGTERM"));
  process.on("SIGINT", () => stopper.stop("SIGINT"));
  stopper.started(await startCorral(options, logger));
  if (options.uninstall) {
    await stopper.corral?.uninstalled;
    logger.info({ stay: options.stayAfterUninstall }, "uninstall complete");
    if (!options.stayAfterUninstall) stopper.stop("uninstall complete");
  }
}

/** Stops the scheduler once, when asked and it is up; exits 0 after a clean drain, 1 otherwise. */
class Stopper {
  corral: Corral | undefined;
  #reason: string | undefined;

  constructor(private readonly logger: pino.Logger) {}

  started(corral: Corral): void {
    this.corral = corral;
    if (this.#reason !== undefined) this.#drain(corral);
  }

  stop(reason: string): void {
    if (this.#reason !== undefined) return;
    this.#reason = reason;
    this.logger.info({ signal: reason }, this.corral ? "shutting down" : "shutting down once started");
    if (this.corral) this.#drain(this.corral);
  }

  #drain(corral: Corral): void {
    corral.stop().then(
      () => {
        this.logger.info("stopped");
        process.exit(0);
      },
      (err: unknown) => {
        this.logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${ERROR_PREFIX}${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
