/**
 * The scheduler's service-mode options (`--mode`, `--services`, `--service`, `-p`) and its two
 * offline store commands (`--list-backups`, `--restore-backup`), added to and read from the
 * scheduler's command line (config.ts). Checked together, so a mode missing its files, or a file
 * flag given to the wrong mode, stops the start before anything is opened.
 */
import { InvalidArgumentError, Option } from "commander";
import type { Command } from "commander";
import { validateParameters } from "./domain/spec/parameters.js";
import type { ServiceMode } from "./engine/admin-api.js";
import { ERROR_PREFIX } from "./error-prefix.js";

/** An offline command on the scheduler's store, run instead of the scheduler (store-commands.ts). */
export type StoreCommand =
  | { readonly kind: "list-backups" }
  /** `backup` absent: the newest. */
  | { readonly kind: "restore-backup"; readonly backup?: string };

export interface ModeOptions {
  /** Where the services come from (admin-api.ts ServiceMode). @default "dynamic" */
  readonly mode: ServiceMode;
  /**
   * The spec paths as given: static mode's `--services` (directories or files), mono mode's one
   * `--service` file; none in dynamic mode. Read at start (static-files.ts).
   */
  readonly servicePaths: readonly string[];
  /** `-p K=V` template parameters of every spec file (SERVICE_NAME and FRAMEWORK_NAME are preset). */
  readonly parameters: Readonly<Record<string, string>>;
  /** `--list-backups` or `--restore-backup [name]`: run it on the store and exit. */
  readonly storeCommand?: StoreCommand;
}

export const SERVICE_MODES: readonly ServiceMode[] = ["dynamic", "static", "mono"];

/** Set by the scheduler for every spec file; a -p may not give them. */
const PRESET = ["SERVICE_NAME", "FRAMEWORK_NAME"];

/** `K=V`, K checked as PutService checks parameter names; a later -p K wins over an earlier one. */
function parameter(value: string, previous: Record<string, string> | undefined): Record<string, string> {
  const eq = value.indexOf("=");
  if (eq < 1) throw new InvalidArgumentError(`expected KEY=VALUE, got ${JSON.stringify(value)}`);
  const key = value.slice(0, eq);
  if (PRESET.includes(key)) throw new InvalidArgumentError(`${key} is preset by the scheduler (the file's base name, the framework name); it cannot be given`);
  const given = { [key]: value.slice(eq + 1) };
  const problem = validateParameters(given)[0];
  if (problem !== undefined) throw new InvalidArgumentError(`${key}: ${problem.reason}`);
  return { ...previous, ...given };
}

/** Adds the mode flags to the scheduler's command; every one names its environment variable. */
export function addModeOptions(program: Command, env: NodeJS.ProcessEnv): Command {
  return program
    .addOption(
      new Option("--mode <mode>", "where the services come from: dynamic (the API), static (--services files) or mono (one --service file) (CORRAL_MODE)")
        .choices(SERVICE_MODES)
        .default(env["CORRAL_MODE"] ?? "dynamic"),
    )
    .addOption(
      new Option("--services <paths...>", "static mode: spec files, or directories of *.yml/*.yaml files, put on every start (CORRAL_SERVICES, comma-separated)").default(
        env["CORRAL_SERVICES"],
      ),
    )
    .addOption(new Option("--service <file>", "mono mode: the one spec file; its service is named like the framework (CORRAL_SERVICE)").default(env["CORRAL_SERVICE"]))
    .addOption(new Option("-p, --param <KEY=VALUE>", "static and mono mode: a template parameter of every spec file (repeatable)").argParser(parameter))
    .addOption(new Option("--list-backups", "list the store's migration backups (the scheduler stopped), then exit"))
    .addOption(
      new Option("--restore-backup [name]", "roll a migration back: restore a backup (default the newest) as the mono store (the scheduler stopped), then exit"),
    );
}

/** The mode options, checked for consistency; a mistake prints `corral: …` and throws CommanderError. */
export function modeOptions(program: Command, uninstall: boolean): ModeOptions {
  const o = program.opts<{
    mode: string;
    services?: string[] | string;
    service?: string;
    param?: Record<string, string>;
    listBackups?: boolean;
    restoreBackup?: string | boolean;
  }>();
  // A default taken from the environment bypasses commander's choices.
  if (!(SERVICE_MODES as readonly string[]).includes(o.mode)) program.error(`${ERROR_PREFIX}CORRAL_MODE must be one of: ${SERVICE_MODES.join(", ")}`);
  const mode = o.mode as ServiceMode;
  const services = typeof o.services === "string" ? o.services.split(",").map((p) => p.trim()).filter((p) => p !== "") : (o.services ?? []);
  const service = o.service || undefined;
  const parameters = o.param ?? {};
  if (mode !== "static" && services.length > 0) program.error(`${ERROR_PREFIX}--services / CORRAL_SERVICES is for --mode static (the mode is ${mode})`);
  if (mode !== "mono" && service !== undefined) program.error(`${ERROR_PREFIX}--service / CORRAL_SERVICE is for --mode mono (the mode is ${mode})`);
  // An uninstall removes what is stored and needs no spec file.
  if (mode === "static" && services.length === 0 && !uninstall) program.error(`${ERROR_PREFIX}--mode static needs --services DIR|FILE… (CORRAL_SERVICES): the spec files of its services`);
  if (mode === "mono" && service === undefined && !uninstall) program.error(`${ERROR_PREFIX}--mode mono needs --service FILE (CORRAL_SERVICE): the spec file of its one service`);
  if (mode === "dynamic" && Object.keys(parameters).length > 0) {
    program.error(`${ERROR_PREFIX}-p / --param is for --mode static or mono (dynamic services take their parameters with PutService)`);
  }
  const storeCommand = storeCommandOf(program, o, uninstall);
  return {
    mode,
    servicePaths: mode === "static" ? services : service !== undefined ? [service] : [],
    parameters,
    ...(storeCommand ? { storeCommand } : {}),
  };
}

/** --list-backups or --restore-backup [name]: one of them, and not with --uninstall. */
function storeCommandOf(program: Command, o: { listBackups?: boolean; restoreBackup?: string | boolean }, uninstall: boolean): StoreCommand | undefined {
  const restore = o.restoreBackup;
  if (o.listBackups && restore !== undefined) program.error(`${ERROR_PREFIX}--list-backups and --restore-backup are separate commands: give one`);
  if (restore === "") program.error(`${ERROR_PREFIX}--restore-backup takes a backup's name (--list-backups lists them), or none for the newest`);
  const command: StoreCommand | undefined = o.listBackups
    ? { kind: "list-backups" }
    : restore === undefined
      ? undefined
      : { kind: "restore-backup", ...(typeof restore === "string" ? { backup: restore } : {}) };
  if (command && uninstall) program.error(`${ERROR_PREFIX}--${command.kind} works on a stopped scheduler's store; it does not go with --uninstall`);
  return command;
}
