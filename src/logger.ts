/**
 * The scheduler's logger: pino JSON lines for machines (`--log-format json`, the default when
 * stdout is not a terminal), readable lines for people (`pretty`, the default on a terminal).
 * Pretty lines go through pino-pretty as an in-process stream, written synchronously (no
 * transport worker thread, nothing lost at `process.exit`); pino-pretty is loaded only then.
 */
import pino from "pino";
import type { LogFormat } from "./config.js";

export interface LoggerOptions {
  /** pino level. */
  readonly level: string;
  readonly format: LogFormat;
  /** Pretty lines in colour (main.ts: stdout is a terminal and NO_COLOR is unset). @default false */
  readonly colorize?: boolean;
  /** Where lines go. @default stdout (fd 1) */
  readonly destination?: NodeJS.WritableStream;
}

/** Bindings on every line; `app` tells Corral's lines from others' in a shared log. */
const BASE = { app: "corral" };

/** A pino logger writing JSON or pretty lines (see the file comment). */
export async function createLogger(options: LoggerOptions): Promise<pino.Logger> {
  const base = { level: options.level, base: BASE };
  if (options.format === "json") {
    return pino(base, options.destination ?? pino.destination({ dest: 1, sync: true }));
  }
  const { default: pretty } = await import("pino-pretty");
  const stream = pretty({
    destination: options.destination ?? 1,
    sync: true,
    translateTime: "SYS:HH:MM:ss.l",
    ignore: "pid,hostname,app",
    singleLine: true,
    colorize: options.colorize ?? false,
  });
  return pino(base, stream);
}
