/**
 * The scheduler addresses a client may call: a replicated Corral runs two or three schedulers,
 * one leading, and a client is given all of them ("a:1,b:2,c:3" or a list) so that it finds the
 * leader whichever one leads.
 */

/** The addresses of `address` (comma-separated) and `addresses`, trimmed, in order, each once. */
export function parseAddresses(address: string | undefined, addresses: readonly string[] | undefined = []): string[] {
  const all = [...(address ?? "").split(","), ...addresses.flatMap((a) => a.split(","))].map((a) => a.trim()).filter((a) => a !== "");
  const unique = [...new Set(all)];
  if (unique.length === 0) throw new Error("no scheduler address given (address: \"host:port[,host:port…]\" or addresses: [...])");
  return unique;
}
