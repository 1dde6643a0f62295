import { readFileSync } from 'node:fs';
import { AddressInfo, Socket, connect } from 'node:net';
import { TLSSocket, createServer } from 'node:tls';
import type { TestCerts } from './certs';

export interface TlsProxy {
  /** `127.0.0.1:PORT`, a Temporal address that speaks TLS. */
  address: string;
  /** Handshakes refused so far, with the reason Node gave (e.g. a missing client certificate). */
  rejected: string[];
  close(): Promise<void>;
}

/**
 * `temporal server start-dev` serves plaintext gRPC only, so this terminates TLS in front of it, as
 * a load balancer or the server's own TLS would on a secured cluster. `requestCert` with
 * `rejectUnauthorized` makes it mutual TLS: a client without a certificate from the CA is refused
 * in the handshake. ALPN h2, because gRPC clients negotiate HTTP/2 there.
 */
export async function startTlsProxy(targetPort: number, certs: TestCerts): Promise<TlsProxy> {
  const sockets = new Set<Socket>();
  const rejected: string[] = [];
  const server = createServer(
    {
      key: readFileSync(certs.serverKey),
      cert: readFileSync(certs.serverCert),
      ca: readFileSync(certs.caCert),
      requestCert: true,
      rejectUnauthorized: true,
      ALPNProtocols: ['h2'],
    },
    (client: TLSSocket) => {
      const upstream = connect({ port: targetPort, host: '127.0.0.1' });
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    },
  );
  server.on('tlsClientError', (err) => rejected.push(err.message));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    rejected,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
