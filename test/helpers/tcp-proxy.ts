import type { Socket, TCPSocketListener } from "bun";

/**
 * A loopback TCP proxy in front of a server, to simulate an outage without touching the real
 * server: cut() drops every connection and refuses new ones until restore().
 */
export class TcpProxy {
  private listener: TCPSocketListener<{ up?: Socket<any>; pending: Uint8Array[] }>;
  private pairs = new Set<Socket<any>>();
  private down = false;

  constructor(targetHost: string, targetPort: number) {
    this.listener = Bun.listen<{ up?: Socket<any>; pending: Uint8Array[] }>({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open: (client) => {
          client.data = { pending: [] };
          if (this.down) return void client.end();
          this.pairs.add(client);
          void Bun.connect({
            hostname: targetHost,
            port: targetPort,
            socket: {
              open: (up) => {
                client.data.up = up;
                this.pairs.add(up);
                for (const c of client.data.pending) up.write(c);
                client.data.pending = [];
              },
              data: (_up, chunk) => void client.write(chunk),
              close: (up) => {
                this.pairs.delete(up);
                client.end();
              },
              error: () => void client.end(),
            },
          }).catch(() => client.end());
        },
        data: (client, chunk) => {
          if (client.data.up) client.data.up.write(chunk);
          else client.data.pending.push(new Uint8Array(chunk));
        },
        close: (client) => {
          this.pairs.delete(client);
          client.data.up?.end();
        },
      },
    });
  }

  get port(): number {
    return this.listener.port;
  }

  cut(): void {
    this.down = true;
    for (const s of this.pairs) s.terminate?.() ?? s.end();
    this.pairs.clear();
  }

  restore(): void {
    this.down = false;
  }

  stop(): void {
    this.cut();
    this.listener.stop(true);
  }
}
