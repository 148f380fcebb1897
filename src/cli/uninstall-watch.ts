/**
 * `uninstall --wait`: follows the WatchUninstall stream until the removal of one service ends
 * (COMPLETED or FORCED), showing each event as a line or as a progress bar.
 */
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { UninstallEventKind } from "../client/index.js";
import type { UninstallEvent, WatchUninstallResponse } from "../client/index.js";
import { CliError } from "./errors.js";
import { Bars } from "./progress.js";
import { kindName } from "./render.js";

export interface UninstallDisplay {
  update(event: UninstallEvent): void;
  finish(): void;
}

/**
 * Returns the COMPLETED or FORCED event of `name`'s current removal. The server starts a watch
 * of a name without `after` at the name's current removal (or its latest, when it already
 * ended), so an earlier removal's COMPLETED does not end it. As a guard against a server that
 * replays older removals too, only events of `removal` (UninstallService's answer) are shown;
 * from a server that does not send removal ids (0), events stamped before `since` (the server's
 * time the current removal began) are skipped instead.
 */
export async function followUninstall(
  events: AsyncIterable<WatchUninstallResponse>,
  name: string,
  current: { readonly removal: bigint; readonly since: Timestamp | undefined },
  display: UninstallDisplay,
): Promise<UninstallEvent> {
  const { removal, since } = current;
  try {
    for await (const { event } of events) {
      if (event === undefined || event.name !== name) continue;
      if (removal !== 0n && event.removalId !== removal) continue;
      if (removal === 0n && since !== undefined && event.time !== undefined && before(event.time, since)) continue;
      display.update(event);
      if (event.kind === UninstallEventKind.COMPLETED || event.kind === UninstallEventKind.FORCED) return event;
    }
  } finally {
    display.finish();
  }
  throw new CliError(`the uninstall event stream ended before the removal of ${name} finished`);
}

function before(a: Timestamp, b: Timestamp): boolean {
  return a.seconds < b.seconds || (a.seconds === b.seconds && a.nanos < b.nanos);
}

/** One bar: steps removed of the service's total, with the latest event kind and message. */
export function uninstallBar(stream: NodeJS.WritableStream): UninstallDisplay {
  const bars = new Bars(stream);
  return {
    update: (e) => bars.set("", `uninstall ${e.name}`, e.stepsComplete, e.stepsTotal, kindName(e.kind), e.message),
    finish: () => bars.stop(),
  };
}
