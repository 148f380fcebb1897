/**
 * The terminal display of `--watch` (cli-progress), drawn into a fake TTY: a bar for the plan
 * and one per phase, with step counts, statuses and the step being worked on.
 */
import { Writable } from "node:stream";
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { PlanSchema, Status } from "../../src/client/index.js";
import { barDisplay } from "../../src/cli/plan-watch.js";

/** A writable that says it is a 120-column terminal and keeps what was written, minus escapes. */
function fakeTty(): { stream: NodeJS.WritableStream; text: () => string } {
  let out = "";
  const stream = Object.assign(
    new Writable({
      write(chunk: Buffer, _enc, done) {
        out += chunk.toString();
        done();
      },
    }),
    { isTTY: true, columns: 120, cursorTo: () => true, moveCursor: () => true, clearLine: () => true, clearScreenDown: () => true },
  );
  return { stream, text: () => out.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "") };
}

describe("barDisplay", () => {
  it("draws the plan and each phase with step counts", () => {
    const tty = fakeTty();
    const display = barDisplay(tty.stream);
    display.update(
      create(PlanSchema, {
        name: "deploy",
        status: Status.IN_PROGRESS,
        phases: [
          { id: "a", name: "hello", status: Status.COMPLETE, steps: [{ id: "1", name: "hello-0:[server]", status: Status.COMPLETE }] },
          {
            id: "b",
            name: "world",
            status: Status.IN_PROGRESS,
            steps: [
              { id: "2", name: "world-0:[server]", status: Status.STARTING, message: "launching" },
              { id: "3", name: "world-1:[server]", status: Status.PENDING },
            ],
          },
        ],
      }),
    );
    display.finish();
    const lines = tty.text().split(/\r?\n|\r/).map((l) => l.trimEnd()).filter((l) => l !== "");
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^plan deploy\s+█+░+\s+1\/3\s+IN_PROGRESS$/),
        expect.stringMatching(/^ {2}hello\s+█{24}\s+1\/1\s+COMPLETE$/),
        expect.stringMatching(/^ {2}world\s+░{24}\s+0\/2\s+IN_PROGRESS\s+world-0:\[server\] STARTING: launching$/),
      ]),
    );
  });
});
