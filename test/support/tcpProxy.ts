import { AddressInfo, Server, Socket, connect, createServer } from 'node:net';

export interface TcpProxy {
  /** `http://127.0.0.1:PORT`: point a client here instead of at the target. */
  endpoint: string;
  /** Drops every open connection and refuses new ones until `resume()`: the target looks down. */
  cutOff(): void;
  resume(): void;
  close(): Promise<void>;
}

/** A loopback TCP proxy to `targetPort` that can make the target unreachable for a while. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let down = false;
  const server: Server = createServer((client) => {
    if (down) return client.destroy();
    const upstream = connect({ port: targetPort, host: '127.0.0.1' });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    cutOff() {
      down = true;
      for (const s of sockets) s.destroy();
    },
    resume() {
      down = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
