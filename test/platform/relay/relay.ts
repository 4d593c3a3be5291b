/**
 * A TCP relay: listens on the given addresses and pipes each connection to
 * one target. The platform runs it to make a loopback-only service (the image
 * registry) reachable from pods at the pod bridge's host address, without
 * binding the service itself to anything but 127.0.0.1.
 *
 *   node relay.ts --target 127.0.0.1:15000 --listen 10.64.0.1:15000 [--listen ...]
 *
 * The target must be on loopback: the relay never connects anywhere else.
 */
import net from 'node:net';
import { parseArgs } from 'node:util';

interface HostPort {
  host: string;
  port: number;
}

function hostPort(s: string): HostPort {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(s);
  if (!m) throw new Error(`not an IPv4 address:port: ${s}`);
  return { host: m[1], port: Number(m[2]) };
}

const { values } = parseArgs({
  options: {
    target: { type: 'string' },
    listen: { type: 'string', multiple: true },
  },
});
if (!values.target || !values.listen?.length) {
  console.error(
    'usage: relay.ts --target 127.0.0.1:PORT --listen ADDR:PORT ...',
  );
  process.exit(2);
}
const target = hostPort(values.target);
if (!target.host.startsWith('127.')) {
  console.error(`the target must be on loopback, not ${target.host}`);
  process.exit(2);
}

for (const l of values.listen.map(hostPort)) {
  const server = net.createServer(client => {
    const upstream = net.connect(target.port, target.host);
    const close = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  server.on('error', err => {
    console.error(`relay ${l.host}:${l.port}: ${err.message}`);
    process.exit(1);
  });
  server.listen(l.port, l.host, () =>
    console.log(
      `relaying ${l.host}:${l.port} -> ${target.host}:${target.port}`,
    ),
  );
}
for (const sig of ['SIGTERM', 'SIGINT'] as const)
  process.on(sig, () => process.exit(0));
