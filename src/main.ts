/**
 * The scheduler process: the only place that reads argv and the environment. Stops gracefully
 * on SIGTERM/SIGINT: the API stops taking calls, in-flight engine work drains, then exit 0.
 *
 * A signal while starting (waiting for the port or a lock included) stops the start-up: what was
 * set up is undone, exit 0. The whole stop has a deadline (DEFAULT_STOP_DEADLINE_MS), after
 * which it exits 1 naming what did not stop; so does a second signal more than a second after
 * the first (a duplicate within the second is npm passing a terminal's Ctrl-C on, and ignored).
 *
 * Run it as `node --import tsx src/main.ts` (what `npm start` execs, so npm's only child is
 * this process and npm passes SIGINT/SIGTERM on to it) or `node dist/src/main.js` after
 * `npm run build`. A fatal error prints one line, `corral: <what went wrong>`, and exits 1.
 *
 * `--list-backups` and `--restore-backup` run on the store instead of the scheduler
 * (store-commands.ts), print what they did and exit 0.
 */
import { CommanderError } from "commander";
import type pino from "pino";
import { StopDeadlineError, startCorral } from "./app.js";
import type { Corral } from "./app.js";
import { ERROR_PREFIX, resolveOptions } from "./config.js";
import { createLogger } from "./logger.js";
import { runStoreCommand } from "./store-commands.js";

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
  if (options.storeCommand) {
    // --list-backups / --restore-backup: work on the stopped scheduler's store, print, exit.
    const abort = new AbortController();
    const stop = (): void => abort.abort(new Error("stopped by a signal"));
    process.once("SIGTERM", stop).once("SIGINT", stop);
    const lines = await runStoreCommand(options.storeCommand, options, logger, abort.signal);
    // Exit once written: a pipe's writes may still be queued.
    process.stdout.write(lines.map((l) => `${l}\n`).join(""), () => process.exit(0));
    return;
  }
  const stopper = new Stopper(logger);
  // Before start-up, so a signal that arrives while starting stops the start-up (undoing what
  // was set up) instead of killing the scheduler half-started.
  process.on("SIGTERM", () => stopper.signal("SIGTERM"));
  process.on("SIGINT", () => stopper.signal("SIGINT"));
  let corral: Corral;
  try {
    corral = await startCorral(options, logger, { signal: stopper.aborted });
  } catch (err) {
    if (stopper.aborted.aborted) stopper.stoppedStarting(err);
    throw err;
  }
  stopper.started(corral);
  void corral.clusterLost.then((reason) => stopper.lost(reason));
  if (options.uninstall) {
    await stopper.corral?.uninstalled;
    logger.info({ stay: options.stayAfterUninstall }, "uninstall complete");
    if (!options.stayAfterUninstall) stopper.stop("uninstall complete");
  }
}

/** npm passes a terminal's Ctrl-C on to its child, which then sees SIGINT twice within this. */
const DUPLICATE_SIGNAL_MS = 1000;

/**
 * Stops the scheduler once: aborts the start-up, or drains it once up; exits 0 after a clean
 * stop, 1 otherwise. A second signal after DUPLICATE_SIGNAL_MS exits 1 at once.
 */
class Stopper {
  corral: Corral | undefined;
  readonly #abort = new AbortController();
  #firstSignalAt: number | undefined;
  #stopping = false;

  constructor(private readonly logger: pino.Logger) {}

  /** Aborted on the first signal before the scheduler is up. */
  get aborted(): AbortSignal {
    return this.#abort.signal;
  }

  started(corral: Corral): void {
    this.corral = corral;
    if (this.#stopping) this.#drain(corral);
  }

  /** startCorral failed after the abort: exit 0 when it stopped for the signal, else say why. */
  stoppedStarting(err: unknown): void {
    if (err === this.#abort.signal.reason) {
      this.logger.info("stopped before start-up finished");
      process.exit(0);
    }
    if (err instanceof StopDeadlineError) this.#ranOut(err);
  }

  signal(name: NodeJS.Signals): void {
    if (this.#firstSignalAt === undefined) {
      this.#firstSignalAt = Date.now();
      this.stop(name);
      return;
    }
    if (Date.now() - this.#firstSignalAt < DUPLICATE_SIGNAL_MS) return;
    this.logger.error({ signal: name }, "second signal: stopping now, without finishing the shutdown");
    process.exit(1);
  }

  /** The cluster gave the framework up: stop, then exit 1 with the reason on stderr. */
  lost(reason: string): void {
    this.#exitCode = 1;
    this.#why = reason;
    this.stop("cluster lost the framework");
  }

  #exitCode = 0;
  #why: string | undefined;

  stop(reason: string): void {
    if (this.#stopping) return;
    this.#stopping = true;
    this.logger.info({ signal: reason }, this.corral ? "shutting down" : "shutting down before start-up finished");
    if (this.corral) this.#drain(this.corral);
    else this.#abort.abort(new Error(`stopped by ${reason} while starting`));
  }

  #drain(corral: Corral): void {
    corral.stop().then(
      () => {
        this.logger.info("stopped");
        if (this.#why !== undefined) process.stderr.write(`${ERROR_PREFIX}${this.#why}\n`);
        process.exit(this.#exitCode);
      },
      (err: unknown) => {
        if (err instanceof StopDeadlineError) this.#ranOut(err);
        this.logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  }

  #ranOut(err: StopDeadlineError): never {
    this.logger.error({ unfinished: err.unfinished, deadlineMs: err.deadlineMs }, "shutdown did not finish in time");
    process.exit(1);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${ERROR_PREFIX}${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
