/**
 * A port's `advertise`, `vip` and `ranges` (dcos-commons §4.2): what GetEndpoints lists, the
 * task's DiscoveryInfo and where a dynamic port may be chosen.
 */
import type { PortRangeSpec, VipSpec } from "./types.js";
import type { Issues, YamlMap } from "./fields.js";
import { checkKeys, isAbsent, readBool, readEnum, readList, readMap, readNumber, readString, violate } from "./fields.js";

/** A VIP prefix becomes a host name part (`<prefix>.<service>.l4lb.thisdcos.directory`). */
const VIP_PREFIX = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$/;
const PORT = { integer: true, min: 1, max: 65535 } as const;

function parseVip(issues: Issues, field: string, raw: unknown): { vip?: VipSpec; advertise: boolean } {
  if (isAbsent(raw)) return { advertise: false };
  const map = readMap(issues, field, raw);
  if (!map) return { advertise: false };
  checkKeys(issues, field, map, ["port", "prefix", "protocol", "advertise"]);
  const port = readNumber(issues, `${field}.port`, map.get("port"), PORT);
  const prefix = readString(issues, `${field}.prefix`, map.get("prefix"), true);
  if (prefix !== undefined && (!VIP_PREFIX.test(prefix) || prefix.length > 63)) {
    violate(issues, `${field}.prefix`, "must be a DNS label: letters, digits and '-', starting and ending with a letter or digit, at most 63 characters");
  }
  const protocol = readEnum(issues, `${field}.protocol`, map.get("protocol"), ["tcp", "udp"] as const, "tcp");
  // The reference's older `vip.advertise` advertised the port; it still means that.
  const advertise = readBool(issues, `${field}.advertise`, map.get("advertise"), false);
  if (port === undefined || prefix === undefined || protocol === undefined) return { advertise };
  return { vip: { prefix, port, protocol }, advertise };
}

/** `ranges: [{begin, end}]`; an empty `end` (as multiport.yml writes) is open up to 65535. */
function parseRanges(issues: Issues, field: string, raw: unknown): PortRangeSpec[] {
  const ranges: PortRangeSpec[] = [];
  (readList(issues, field, raw) ?? []).forEach((item, i) => {
    const at = `${field}[${i}]`;
    const map = readMap(issues, at, item);
    if (!map) return;
    checkKeys(issues, at, map, ["begin", "end"]);
    const begin = readNumber(issues, `${at}.begin`, map.get("begin"), PORT);
    const endRaw = map.get("end");
    const end = isAbsent(endRaw) && endRaw !== undefined ? 65535 : readNumber(issues, `${at}.end`, endRaw, PORT);
    if (begin === undefined || end === undefined) return;
    if (begin > end) {
      violate(issues, at, `begin ${begin} is after end ${end}`);
      return;
    }
    ranges.push({ begin, end });
  });
  return ranges;
}

export interface PortExtras {
  readonly advertise?: boolean;
  readonly vip?: VipSpec;
  readonly ranges?: readonly PortRangeSpec[];
}

/** The extras of the port at `field`; `port` is its number (0 = dynamic) when valid. */
export function parsePortExtras(issues: Issues, field: string, map: YamlMap, port: number | undefined): PortExtras {
  const { vip, advertise: vipAdvertise } = parseVip(issues, `${field}.vip`, map.get("vip"));
  const advertise = readBool(issues, `${field}.advertise`, map.get("advertise"), false) || vipAdvertise;
  const ranges = parseRanges(issues, `${field}.ranges`, map.get("ranges"));
  if (port !== undefined && port !== 0 && ranges.length > 0 && !ranges.some((r) => r.begin <= port && port <= r.end)) {
    const listed = ranges.map((r) => `${r.begin}-${r.end}`).join(", ");
    violate(issues, `${field}.port`, `port ${port} lies in none of its ranges (${listed})`);
  }
  return {
    ...(advertise ? { advertise } : {}),
    ...(vip ? { vip } : {}),
    ...(ranges.length > 0 ? { ranges } : {}),
  };
}
