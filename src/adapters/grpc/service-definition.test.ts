import { create, fromBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { WatchUninstallResponseSchema } from "../../../gen/corral/v1/admin_pb.js";
import { serializer } from "./service-definition.js";

describe("serializer", () => {
  const serialize = serializer(WatchUninstallResponseSchema);
  const decode = (bytes: Buffer) => fromBinary(WatchUninstallResponseSchema, bytes);

  it("encodes a frozen message once and hands the same bytes to every call", () => {
    const message = Object.freeze(create(WatchUninstallResponseSchema, { event: { sequence: 7n, name: "svc" } }));
    const first = serialize(message);
    expect(serialize(message)).toBe(first);
    expect(decode(first).event?.name).toBe("svc");
  });

  it("encodes a message that may change on every call", () => {
    const message = create(WatchUninstallResponseSchema, { event: { sequence: 7n, name: "svc" } });
    const first = serialize(message);
    message.event!.name = "other";
    expect(decode(serialize(message)).event?.name).toBe("other");
    expect(decode(first).event?.name).toBe("svc");
  });
});
