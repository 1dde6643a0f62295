import { IncomingMessage, Server, ServerResponse, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LatencyProxy {
  url: string;
  close(): Promise<void>;
}

/**
 * An HTTP proxy in front of a local service that answers after a delay, as a remote control plane
 * does. The delay comes after the upstream has answered, so a call that changes state (a Bedrock
 * Create) has taken effect while its caller is still waiting: a worker killed then has done the
 * work without learning of it.
 */
export async function startLatencyProxy(target: string, delayMs: (method: string, path: string) => number): Promise<LatencyProxy> {
  const upstream = new URL(target);
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const forward = request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
        (up) => {
          const body: Buffer[] = [];
          up.on('data', (c: Buffer) => body.push(c));
          up.on('end', () => {
            const reply = () => {
              if (res.destroyed) return;
              res.writeHead(up.statusCode ?? 502, up.headers);
              res.end(Buffer.concat(body));
            };
            const delay = delayMs(req.method ?? 'GET', (req.url ?? '/').split('?')[0]);
            if (delay > 0) setTimeout(reply, delay);
            else reply();
          });
          up.on('error', () => res.destroy());
        },
      );
      forward.on('error', () => res.destroy());
      forward.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
