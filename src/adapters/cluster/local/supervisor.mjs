#!/usr/bin/env node
// The local cluster's task supervisor: one per task, started detached by the scheduler, so the
// task outlives the scheduler process. Plain JavaScript, run by `node` without a loader, so a
// launch costs one small process and starts in tens of milliseconds.
//
//   node supervisor.mjs <task-dir>
//
// Reads <task-dir>/launch.json {cmd, env, cwd, stdout, stderr, uid?, gid?, killGraceS}. Runs
// `/bin/sh -c cmd` in its own process group (so the task's whole tree is killed with it) and
// records, each file written whole through a rename:
//   supervisor.json  {supervisorPid, supervisorStart, taskPid?, taskStart?, bootId, startedMs}
//   exit.json        {code, signal, killed, error?, endedMs}  once the task has ended
// SIGTERM asks for a kill: SIGTERM to the task's group, SIGKILL after killGraceS.
import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.argv[2];
if (!dir) {
  process.stderr.write("usage: supervisor.mjs <task-dir>\n");
  process.exit(2);
}
const launch = JSON.parse(readFileSync(join(dir, "launch.json"), "utf8"));

function writeWhole(name, value) {
  const tmp = join(dir, `.${name}.tmp`);
  writeFileSync(tmp, JSON.stringify(value));
  renameSync(tmp, join(dir, name));
}

/** Start time in clock ticks since boot (field 22 of /proc/<pid>/stat): with the boot id, a pid's identity. */
function procStart(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

function bootId() {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {
    return "";
  }
}

const me = {
  supervisorPid: process.pid,
  supervisorStart: procStart(process.pid),
  bootId: bootId(),
  startedMs: Date.now(),
};
let killed = false;
let ended = false;
let child;
// Installed before anything is published: a kill that comes before the task's spawn is kept
// and carried out once it has spawned, instead of ending the supervisor by default.
let killAsked = false;
process.on("SIGTERM", () => {
  killAsked = true;
  requestKill();
});

// One supervisor per sandbox: a second one (a scheduler that died while spawning this one and
// spawned it again on restart) leaves at once.
try {
  closeSync(openSync(join(dir, "supervisor.lock"), "wx"));
} catch {
  process.exit(0);
}

function finish(result) {
  if (ended) return;
  ended = true;
  writeWhole("exit.json", { killed, ...result, endedMs: Date.now() });
  process.exit(0);
}

// A kill asked for before the task started: it never runs.
if (existsSync(join(dir, "kill-requested"))) {
  killed = true;
  writeWhole("supervisor.json", me);
  finish({ code: null, signal: null });
}

writeWhole("supervisor.json", me);
const out = openSync(launch.stdout, "a");
const err = openSync(launch.stderr, "a");
try {
  child = spawn("/bin/sh", ["-c", launch.cmd], {
    cwd: launch.cwd,
    env: launch.env,
    detached: true,
    stdio: ["ignore", out, err],
    ...(launch.uid === undefined ? {} : { uid: launch.uid, gid: launch.gid }),
  });
} catch (e) {
  finish({ code: null, signal: null, error: e instanceof Error ? e.message : String(e) });
}
closeSync(out);
closeSync(err);

function signalGroup(signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is gone already
  }
}

child.on("error", (e) => finish({ code: null, signal: null, error: e.message }));
child.on("spawn", () => {
  writeWhole("supervisor.json", { ...me, taskPid: child.pid, taskStart: procStart(child.pid) });
  // A kill asked for while the task was being spawned: its SIGTERM found no task yet.
  if (killAsked || existsSync(join(dir, "kill-requested"))) requestKill();
});
child.on("exit", (code, signal) => {
  signalGroup("SIGKILL"); // what the shell left behind goes with it
  finish({ code, signal });
});

function requestKill() {
  if (killed || child?.pid === undefined) return;
  killed = true;
  signalGroup("SIGTERM");
  const graceMs = Math.max(0, Number(launch.killGraceS ?? 3)) * 1000;
  setTimeout(() => signalGroup("SIGKILL"), graceMs).unref();
}
// Detached from the scheduler's terminal; a Ctrl-C there is not meant for the tasks.
process.on("SIGINT", () => undefined);
process.on("SIGHUP", () => undefined);
