import { describe, expect, it } from "vitest";
import { busyPortsNow, cachedBusyPorts, formatPortRanges, heldPorts, parsePortRanges, toRanges } from "./free-ports.js";

const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:270F 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1 1 0 100 0
   1: 0100007F:0FCC 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 2 1 0 100 0
   2: 0100007F:E39C 0100007F:270F 01 00000000:00000000 00:00000000 00000000  1000        0 3 2 0 20 4
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue
   0: 00000000000000000000000000000000:0FCD 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000
`;
const UDP = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  100: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 5 2 0 0
  101: 0100007F:7A69 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 6 2 0 0
`;

describe("the local agent's free ports", () => {
  it("reads --ports ranges and single ports, and refuses what is not a port range", () => {
    expect(parsePortRanges("1024-65535")).toEqual([{ begin: 1024, end: 65535 }]);
    expect(parsePortRanges("8000-8999, 9999")).toEqual([{ begin: 8000, end: 8999 }, { begin: 9999, end: 9999 }]);
    expect(formatPortRanges(parsePortRanges("8000-8999,9999"))).toBe("8000-8999,9999");
    expect(() => parsePortRanges("")).toThrow(/expects port ranges/);
    expect(() => parsePortRanges("9000-8000")).toThrow(/got "9000-8000"/);
    expect(() => parsePortRanges("0-10")).toThrow(/got "0-10"/);
    expect(() => parsePortRanges("1-70000")).toThrow(/got "1-70000"/);
    expect(() => parsePortRanges("a-b")).toThrow(/got "a-b"/);
  });

  it("counts every TCP socket's local port (listening or connected) and every bound UDP socket as held", () => {
    expect(heldPorts(TCP, true)).toEqual([9999, 4044, 58268]); // 58268: an outgoing connection's port, which a listener could not bind
    expect(heldPorts(TCP6, true)).toEqual([4045]);
    expect(heldPorts(UDP, false)).toEqual([68, 31337]);
    const files: Record<string, string> = { "/proc/net/tcp": TCP, "/proc/net/tcp6": TCP6, "/proc/net/udp": UDP };
    const read = (p: string): string => {
      const text = files[p];
      if (text === undefined) throw new Error("ENOENT");
      return text;
    };
    expect(busyPortsNow(read)).toEqual(toRanges([68, 4044, 4045, 9999, 31337, 58268]));
    expect(toRanges([4045, 4044, 68])).toEqual([{ begin: 68, end: 68 }, { begin: 4044, end: 4045 }]);
  });

  it("reads /proc at most once a second", () => {
    let now = 0;
    let reads = 0;
    const busy = cachedBusyPorts(() => now, (path) => {
      reads++;
      return path.includes("tcp") ? TCP : "";
    });
    busy();
    now = 999;
    busy();
    expect(reads).toBe(4); // one reading: four tables
    now = 1000;
    expect(busy()).toEqual(toRanges([4044, 9999, 58268]));
    expect(reads).toBe(8);
  });
});
