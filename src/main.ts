/**
 * The scheduler process: the only place that reads argv and the environment. Stops gracefully
 * on SIGTERM/SIGINT: the API stops taking calls, in-flight engine work drains, then exit.
 */
import { CommanderError } from "commander";
import pino from "pino";
import { startCorral } from "./app.js";
import { resolveOptions } from "./config.js";

async function main(): Promise<void> {
  let options;
  try {
    options = resolveOptions(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode);
    throw err;
  }
  const logger = pino({ level: options.logLevel, base: { app: "corral" } });
  const corral = await startCorral(options, logger);
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    corral.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
  if (options.uninstall) {
    await corral.uninstalled;
    logger.info({ stay: options.stayAfterUninstall }, "uninstall complete");
    if (!options.stayAfterUninstall) shutdown("uninstall complete");
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
