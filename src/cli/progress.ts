/**
 * Live progress bars on a terminal (cli-progress), one per key: `set` creates or updates a bar,
 * `stop` draws the last state and leaves it on screen. Only used when stdout is a TTY.
 *
 * cli-progress is loaded when the first `Bars` is made, not when this module is imported: every
 * `corral` call imports this file (through the watch modules), few of them draw bars, and the
 * CLI's start-up time is what `corral list` costs.
 */
import { createRequire } from "node:module";
import type * as CliProgress from "cli-progress";
import type { GenericFormatter, SingleBar } from "cli-progress";

const loadCliProgress = (): typeof CliProgress => createRequire(import.meta.url)("cli-progress") as typeof CliProgress;

const WIDTH = 24;

interface Payload {
  readonly label: string;
  readonly status: string;
  readonly detail: string;
}

export class Bars {
  readonly #multi: CliProgress.MultiBar;
  readonly #bars = new Map<string, SingleBar>();
  #labelWidth = 0;

  constructor(stream: NodeJS.WritableStream) {
    const format: GenericFormatter = (_options, params, payload: Payload) => {
      const { value, total } = params;
      const filled = total > 0 ? Math.round((WIDTH * Math.min(value, total)) / total) : payload.status === "COMPLETE" ? WIDTH : 0;
      const bar = "█".repeat(filled) + "░".repeat(WIDTH - filled);
      const detail = payload.detail === "" ? "" : `  ${payload.detail}`;
      return `${payload.label.padEnd(this.#labelWidth)}  ${bar}  ${value}/${total}  ${payload.status}${detail}`;
    };
    this.#multi = new (loadCliProgress().MultiBar)({ stream, format, hideCursor: true, clearOnComplete: false, stopOnComplete: false, autopadding: false });
  }

  set(key: string, label: string, value: number, total: number, status: string, detail = ""): void {
    this.#labelWidth = Math.max(this.#labelWidth, label.length);
    const payload: Payload = { label, status, detail };
    const bar = this.#bars.get(key);
    if (bar === undefined) {
      this.#bars.set(key, this.#multi.create(total, value, payload));
      return;
    }
    bar.setTotal(total);
    bar.update(value, payload);
  }

  stop(): void {
    this.#multi.stop();
  }
}
