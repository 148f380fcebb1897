/**
 * A TCP proxy in front of a test's ZooKeeper server, to partition one client from it. `freeze()`
 * stops forwarding in both directions while keeping every socket open: the client sees no
 * error (node-zookeeper-client never notices a silent server, toolchain.md §6) and the server
 * hears no pings, so it expires the client's session. `thaw()` forwards again.
 *
 *   const proxy = await startTcpProxy(zk.connect);   // proxy.connect === "127.0.0.1:PORT"
 */
import { connect as netConnect, createServer } from "node:net";
import type { Socket } from "node:net";

export interface TcpProxy {
  /** "127.0.0.1:PORT": give this to the client instead of the server's address. */
  readonly connect: string;
  freeze(): void;
  thaw(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const [host, port] = [target.slice(0, target.lastIndexOf(":")), Number(target.slice(target.lastIndexOf(":") + 1))];
  const sockets = new Set<Socket>();
  let frozen = false;
  const track = (s: Socket): void => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => s.destroy());
    if (frozen) s.pause();
  };
  const server = createServer((client) => {
    const upstream = netConnect({ host, port });
    track(client);
    track(upstream);
    client.on("data", (b) => upstream.write(b));
    upstream.on("data", (b) => client.write(b));
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const listening = typeof address === "object" && address ? address.port : 0;
  return {
    connect: `127.0.0.1:${listening}`,
    freeze: () => {
      frozen = true;
      for (const s of sockets) s.pause();
    },
    thaw: () => {
      frozen = false;
      for (const s of sockets) s.resume();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
