/**
 * The `corral` command line: global options, the commands and their arguments (commander),
 * and `run`, which turns whatever happened into an exit code. Reads no argv or environment of
 * its own: `main.ts` passes them in.
 */
import { readFileSync } from "node:fs";
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from "commander";
import * as agents from "./agent-commands.js";
import * as commands from "./commands.js";
import type { CommandContext } from "./commands.js";
import { SHELLS, completionScript } from "./completion.js";
import { endpoints } from "./endpoint-commands.js";
import * as secrets from "./secret-commands.js";
import * as steer from "./steer-commands.js";
import { PLAN_ACTIONS, POD_ACTIONS } from "./steer-render.js";
import type { Shell } from "./completion.js";
import { Connection } from "./connection.js";
import { CliError, ERROR_PREFIX, EXIT, describeFailure } from "./errors.js";

export interface CliIo {
  readonly stdout: NodeJS.WritableStream & { readonly isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadableStream;
  readonly env: NodeJS.ProcessEnv;
  /** Aborted on Ctrl-C. */
  readonly signal?: AbortSignal;
}

export const DEFAULT_SERVER = "127.0.0.1:50051";

const EXIT_CODES_HELP = `
Exit codes:
  0    success (a watched plan reached COMPLETE, a removal finished)
  1    any other error (other gRPC codes such as FAILED_PRECONDITION or UNIMPLEMENTED,
       an unreadable file, a stream that ended early)
  2    INVALID_ARGUMENT: the scheduler rejected the request (the fields are listed one per
       line), or the command line is wrong
  3    NOT_FOUND: no such service, plan, phase, step or pod
  4    UNAVAILABLE: no scheduler answers at --server
  5    a watched plan reached ERROR (the failing steps are printed)
  6    ABORTED: put --expect-generation N found the service at another generation
       (someone else changed it), or put --watch saw the service put again while it
       followed its plan; get it again and retry
  130  interrupted (Ctrl-C)`;

interface GlobalOptions {
  server: string;
  json?: boolean;
  deadline: number;
  tokenFile?: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("must be a positive integer");
  return n;
}

function param(value: string, previous: Record<string, string> | undefined): Record<string, string> {
  const eq = value.indexOf("=");
  if (eq < 1) throw new InvalidArgumentError(`expected KEY=VALUE, got ${JSON.stringify(value)}`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

function sequence(value: string): bigint {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError("must be a non-negative integer");
  return BigInt(value);
}

const intervalOption = () =>
  new Option("--interval <ms>", "--watch on a scheduler without the WatchPlans stream: poll interval; with it: first wait before reopening a broken stream").argParser(positiveInt).default(500);

/** Commands people reach for that Corral calls something else. */
const MISNAMED: Readonly<Record<string, string>> = { delete: "uninstall", remove: "uninstall", rm: "uninstall", ls: "list", log: "logs" };

/** Runs one `corral` invocation and resolves with its exit code. */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  let connection: Connection | undefined;
  const context = (cmd: Command): CommandContext => {
    const g = cmd.optsWithGlobals<GlobalOptions>();
    connection = new Connection({
      server: g.server,
      deadlineMs: g.deadline,
      ...(g.tokenFile === undefined ? {} : { tokenFile: g.tokenFile }),
      ...(g.tlsCa === undefined ? {} : { tlsCa: g.tlsCa }),
      ...(g.tlsCert === undefined ? {} : { tlsCert: g.tlsCert }),
      ...(g.tlsKey === undefined ? {} : { tlsKey: g.tlsKey }),
      ...(io.signal === undefined ? {} : { signal: io.signal }),
      notice: (text) => io.stderr.write(dim(io.stderr, `corral: ${text}`)),
    });
    return {
      connection,
      json: g.json === true,
      tty: io.stdout.isTTY === true,
      stdout: io.stdout,
      out: (text) => io.stdout.write(`${text}\n`),
      err: (text) => io.stderr.write(`${text}\n`),
      readStdin: async () => (await readAll(io.stdin)).toString("utf8"),
      readStdinBytes: () => readAll(io.stdin),
      stdinTty: (io.stdin as { isTTY?: boolean }).isTTY === true,
      ...(io.signal === undefined ? {} : { signal: io.signal }),
    };
  };

  const program = buildProgram(io, context);
  try {
    await program.parseAsync([...argv], { from: "user" });
    return EXIT.OK;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.OK : EXIT.INVALID;
    if (io.signal?.aborted === true) return EXIT.INTERRUPTED;
    const failure = describeFailure(err);
    io.stderr.write(`${ERROR_PREFIX}${failure.message}\n`);
    return failure.exitCode;
  } finally {
    connection?.close();
  }
}

/**
 * Commander's own messages ("error: unknown option '--x'") get the CLI's one prefix, and an
 * unknown command Corral knows by another name says which.
 */
function commanderMessage(message: string): string {
  const unknown = /^error: unknown command '([^']*)'/.exec(message);
  const meant = unknown !== null && Object.hasOwn(MISNAMED, unknown[1]!) ? MISNAMED[unknown[1]!] : undefined;
  if (meant !== undefined) return `${ERROR_PREFIX}unknown command '${unknown![1]}': did you mean ${meant}?\n`;
  return message.replace(/^error: /, ERROR_PREFIX);
}

function buildProgram(io: CliIo, context: (cmd: Command) => CommandContext): Command {
  const program = new Command("corral")
    .description("Command line client of a Corral multi-service scheduler (corral.v1.MultiServiceAdmin).")
    .version(packageVersion(), "-V, --version")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s), outputError: (s, write) => write(commanderMessage(s)) })
    .showHelpAfterError("(run corral --help for usage)")
    .addOption(
      new Option("-s, --server <host:port,...>", "scheduler address, or every replica's comma-separated: calls go to the leader (env: CORRAL_SERVER)").default(
        io.env["CORRAL_SERVER"] || DEFAULT_SERVER,
      ),
    )
    .option("--json", "print JSON (proto3 JSON mapping) instead of tables")
    .addOption(new Option("--deadline <ms>", "deadline of each call").argParser(positiveInt).default(10_000))
    .addOption(new Option("--token-file <file>", "send the token in FILE as `authorization: Bearer <token>` (env: CORRAL_TOKEN_FILE)").default(io.env["CORRAL_TOKEN_FILE"] || undefined))
    .option("--tls-ca <file>", "use TLS, trusting this CA (PEM)")
    .option("--tls-cert <file>", "client certificate (PEM) for mutual TLS")
    .option("--tls-key <file>", "client key (PEM) for mutual TLS")
    .addHelpText("after", EXIT_CODES_HELP);

  program
    .command("put")
    .description("add a service, or reconfigure it with a changed spec (prints CREATED / UNCHANGED / UPDATED, the pod instances relaunched, added and decommissioned, and warnings)")
    .argument("<name>", "service name, e.g. hello or team/db")
    .argument("<file>", "ServiceSpec YAML template, or - for stdin")
    .option("-p, --param <KEY=VALUE>", "template parameter (repeatable)", param)
    .option("-w, --watch", "then follow the plan the put runs until COMPLETE or ERROR")
    .addOption(new Option("--dry-run", "print the plan the put would run (pod instances relaunched and decommissioned, or why the change is refused: exit 1) and store nothing").conflicts("watch"))
    .addOption(new Option("--expect-generation <n>", "put only if the service is at generation N (0: only if it does not exist yet); otherwise ABORTED, exit 6").argParser(sequence))
    .addOption(intervalOption())
    .action((name: string, file: string, o: { param?: Record<string, string>; watch?: boolean; dryRun?: boolean; expectGeneration?: bigint; interval: number }, cmd: Command) =>
      commands.put(context(cmd), name, file, {
        parameters: o.param ?? {},
        watch: o.watch === true,
        intervalMs: o.interval,
        dryRun: o.dryRun === true,
        ...(o.expectGeneration === undefined ? {} : { expectGeneration: o.expectGeneration }),
      }),
    );

  program
    .command("list")
    .description("list every service with its state and plan progress")
    .action((_o: unknown, cmd: Command) => commands.list(context(cmd)));

  program
    .command("get")
    .description("show one service")
    .argument("<name>", "service name")
    .action((name: string, _o: unknown, cmd: Command) => commands.get(context(cmd), name));

  program
    .command("plan")
    .description("show a plan of a service: its phases and steps; with an ACTION, act on the plan, one of its phases or one step, then show the plan (saying so when nothing changed)")
    .argument("<name>", "service name")
    .argument("[plan]", "plan name: deploy, update, recovery, decommission, uninstall or a custom plan (corral plans NAME lists them; default: deploy, or uninstall while the service is removed)")
    .addArgument(
      new Argument("[action]", "start (a custom plan, with -p parameters), stop (interrupt and reset to PENDING), interrupt, continue (on a canary phase: release the next step), force-complete, restart").choices(
        Object.keys(PLAN_ACTIONS),
      ),
    )
    .argument("[phase]", "the action's phase, by name or id (default: the whole plan)")
    .argument("[step]", "the action's step of that phase, by name or id (default: the whole phase)")
    .option("-p, --param <KEY=VALUE>", "with start: an environment variable of the plan's tasks (repeatable)", param)
    .option("-w, --watch", "follow the plan (after the action) until it is COMPLETE (exit 0) or in ERROR (exit 5)")
    .addOption(intervalOption())
    .action((name: string, planName: string | undefined, action: string | undefined, phase: string | undefined, step: string | undefined, o: { param?: Record<string, string>; watch?: boolean; interval: number }, cmd: Command) => {
      const watch = { watch: o.watch === true, intervalMs: o.interval };
      if (o.param !== undefined && action !== "start") throw new CliError(`-p/--param goes with start: corral plan ${name} ${planName ?? "PLAN"} start -p KEY=VALUE`, EXIT.INVALID);
      if (action === undefined) return commands.plan(context(cmd), name, planName ?? "", watch);
      return steer.controlPlan(context(cmd), { name, plan: planName ?? "", action, phase: phase ?? "", step: step ?? "" }, o.param ?? {}, watch);
    });

  program
    .command("plans")
    .description("list the plans of a service: deploy, update, custom plans, recovery, decommission, with status, strategy and steps complete")
    .argument("<name>", "service name")
    .action((name: string, _o: unknown, cmd: Command) => steer.plans(context(cmd), name));

  program
    .command("pod")
    .description("list the pod instances of a service (tasks, states, agents), show one in detail (task ids, reservations), or restart, replace, pause or resume one")
    .argument("<name>", "service name")
    .addArgument(
      new Argument("[action]", "list, info, restart (kill, relaunch in place), replace (move to new reservations, destroying the old volumes), pause (relaunch idle), resume")
        .choices(["list", "info", ...Object.keys(POD_ACTIONS)])
        .default("list"),
    )
    .argument("[pod]", "pod instance, e.g. world-0 (every action but list)")
    .option("-w, --watch", "with restart, replace, pause, resume: then wait until the pod's tasks run again (new task ids)")
    .addOption(intervalOption())
    .action((name: string, action: string, pod: string | undefined, o: { watch?: boolean; interval: number }, cmd: Command) =>
      steer.pod(context(cmd), name, action, pod, { watch: o.watch === true, intervalMs: o.interval }),
    );

  program
    .command("tasks")
    .description("list the tasks of a service: pod instance, state, process id, agent, sandbox, last message")
    .argument("<name>", "service name")
    .action((name: string, _o: unknown, cmd: Command) => commands.tasks(context(cmd), name));

  program
    .command("logs")
    .description("print a task's stdout (or stderr) from its sandbox, as it is written with --follow")
    .argument("<name>", "service name")
    .argument("<task>", "task name (e.g. hello-0-server: its latest task) or task id")
    .option("--stderr", "the task's stderr instead of its stdout")
    .option("-f, --follow", "keep printing what the task writes, until the task ends, its sandbox is removed, or Ctrl-C")
    .addOption(new Option("--tail <lines>", "start at the last N lines (default: the whole file)").argParser(positiveInt))
    .action((name: string, task: string, o: { stderr?: boolean; follow?: boolean; tail?: number }, cmd: Command) =>
      commands.logs(context(cmd), name, task, { stderr: o.stderr === true, follow: o.follow === true, ...(o.tail === undefined ? {} : { tailLines: o.tail }) }),
    );

  program
    .command("uninstall")
    .description("start removing a service")
    .argument("<name>", "service name")
    .option("--wait", "follow the removal until it is COMPLETED or FORCED")
    .option("-w, --watch", "the same as --wait")
    .action((name: string, o: { wait?: boolean; watch?: boolean }, cmd: Command) => commands.uninstall(context(cmd), name, { wait: o.wait === true || o.watch === true }));

  program
    .command("scheduler")
    .description("show the scheduler itself: RUNNING, UNINSTALLING (whole-scheduler uninstall) or UNINSTALLED; its mode (dynamic, static, mono) and store schema")
    .action((_o: unknown, cmd: Command) => commands.scheduler(context(cmd)));

  program
    .command("watch-uninstall")
    .description("print removal events, one per line (JSON lines with --json)")
    .argument("[names...]", "services to follow (default: all, and the stream stays open)")
    .addOption(new Option("--after <n>", "resume after this event sequence number").argParser(sequence).default(0n, "0"))
    .action((names: string[], o: { after: bigint }, cmd: Command) => commands.watchUninstall(context(cmd), names, o.after));

  program
    .command("secret")
    .description("put, list or delete a secret of the local agent's secret store, which specs reference by name (secrets: … secret: NAME); values are never shown")
    .addArgument(new Argument("<action>", "put (the value from --file, or stdin), list (names, sizes, update times), delete").choices(secrets.SECRET_ACTIONS))
    .argument("[name]", "secret name, e.g. hello-world/secret1 (put, delete)")
    .option("--file <file>", "put: read the value from FILE (- for stdin, the default), byte for byte")
    .option("--value <value>", "put: the value itself; it stays in the shell's history and is visible to ps: prefer --file or stdin")
    .addHelpText("after", "\nThe value is sent as given: `echo` adds a newline, `printf %s` does not.\n  printf %s \"$PASSWORD\" | corral secret put hello-world/secret1\n  corral secret put tls/key --file server.key")
    .action((action: string, name: string | undefined, o: { file?: string; value?: string }, cmd: Command) =>
      secrets.secret(context(cmd), action, name, { ...(o.file === undefined ? {} : { file: o.file }), ...(o.value === undefined ? {} : { value: o.value }) }),
    );

  program
    .command("endpoints")
    .description("show a service's endpoints (as dcos-commons' /endpoints): per advertised port name or VIP, the host:port of its running tasks, their DNS names and the VIP")
    .argument("<name>", "service name")
    .argument("[port-name]", "only this endpoint")
    .action((name: string, portName: string | undefined, _o: unknown, cmd: Command) => endpoints(context(cmd), name, portName));

  const agent = program
    .command("agent")
    .description("the local agent daemon that runs this machine's tasks (started by the scheduler with --cluster local)")
    .addOption(new Option("--agent-dir <dir>", "its state directory (env: CORRAL_AGENT_DIR; default <data-dir>/agent)"))
    .addOption(new Option("--data-dir <dir>", "the scheduler's data directory (env: CORRAL_DATA_DIR; default ./.corral)"));
  const agentDir = (cmd: Command): string => agents.agentDirOf(cmd.optsWithGlobals<{ agentDir?: string; dataDir?: string }>(), io.env);
  const agentContext = (cmd: Command): agents.AgentCommandContext => ({
    json: cmd.optsWithGlobals<GlobalOptions>().json === true,
    out: (text) => io.stdout.write(`${text}\n`),
  });
  agent
    .command("status")
    .description("whether an agent runs on the state directory: pid, agents, running tasks, socket (exit 3 when none runs)")
    .action((_o: unknown, cmd: Command) => agents.status(agentContext(cmd), agentDir(cmd)));
  agent
    .command("stop")
    .description("stop the agent; its tasks keep running and the next agent adopts them")
    .option("--kill-tasks", "kill every task it runs first")
    .action((o: { killTasks?: boolean }, cmd: Command) => agents.stop(agentContext(cmd), agentDir(cmd), o.killTasks === true));

  program
    .command("completion")
    .description("print a shell completion script for bash or zsh")
    .addHelpText("after", '\nLoad it in ~/.bashrc with:  eval "$(corral completion bash)"\nor in ~/.zshrc (after compinit) with:  source <(corral completion zsh)')
    .addArgument(new Argument("<shell>", "the shell").choices(SHELLS))
    .action((shell: Shell) => {
      io.stdout.write(completionScript(program, shell));
    });

  return program;
}

/** The version in Corral's package.json: two levels up from src/cli, three from dist/src/cli. */
function packageVersion(): string {
  for (const up of ["../../package.json", "../../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "corral") return pkg.version ?? "unknown";
    } catch {
      // not there: try one level further up
    }
  }
  return "unknown";
}

/** A line for stderr, dim on a terminal (it is a notice, not output). */
function dim(stream: NodeJS.WritableStream, text: string): string {
  return (stream as { isTTY?: boolean }).isTTY === true ? `\x1b[2m${text}\x1b[22m\n` : `${text}\n`;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}
