/**
 * Status update uuids: the simulated master names updates with UUID strings, the wire carries
 * the UUID's 16 bytes as base64 (`TaskStatus.uuid`, `Acknowledge.uuid`). The mapping is the
 * UUID's own bytes both ways, so nothing needs remembering across restarts.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Base64 of the UUID's 16 bytes. */
export function uuidToBase64(uuid: string): string {
  if (!UUID.test(uuid)) throw new Error(`not a UUID: ${uuid}`);
  return Buffer.from(uuid.replaceAll("-", ""), "hex").toString("base64");
}

/** The UUID string (lower case) of 16 bytes. */
export function bytesToUuid(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
