import { readFile } from 'node:fs/promises';

/** UDP ports bound on this machine (IPv4 and IPv6), from /proc: how we learn that FFmpeg listens. */
export async function boundUdpPorts(): Promise<Set<number>> {
  const ports = new Set<number>();
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    let text = '';
    try {
      text = await readFile(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const local = line.trim().split(/\s+/)[1];
      const hex = local?.split(':')[1];
      if (hex) ports.add(parseInt(hex, 16));
    }
  }
  return ports;
}

/** An even port with port + 1 free too (RTP + RTCP for FFmpeg), chosen at random in [min, max]. */
export async function freeUdpPair(min: number, max: number, taken: ReadonlySet<number>): Promise<number> {
  const bound = await boundUdpPorts();
  const span = Math.floor((max - min) / 2);
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = min + (min % 2) + 2 * Math.floor(Math.random() * span);
    if (port + 1 > max) continue;
    if (!bound.has(port) && !bound.has(port + 1) && !taken.has(port)) return port;
  }
  throw new Error(`no free UDP port pair in ${min}–${max}`);
}

/** True when some socket is bound to `ip`:`port` (IPv4, UDP), from /proc/net/udp. */
export async function udpBound(ip: string, port: number): Promise<boolean> {
  // /proc shows the address as the in-memory 32-bit value in hex: little-endian bytes on x86/ARM.
  const want = `${ip.split('.').map((b) => Number(b).toString(16).padStart(2, '0')).reverse().join('').toUpperCase()}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const text = await readFile('/proc/net/udp', 'utf8').catch(() => '');
  return text.split('\n').slice(1).some((line) => line.trim().split(/\s+/)[1] === want);
}
