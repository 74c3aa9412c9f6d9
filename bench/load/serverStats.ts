/**
 * What the server side says during a load run: CPU and memory of the mediasoup workers and of
 * the Node process, and the loss the SFU counted on the points' uplinks (its receive streams).
 */
import { readdir, readFile } from 'node:fs/promises';
import type { TiepdanServer } from '../../src/server.ts';

export interface WorkerSample {
  index: number;
  pid: number;
  cpuMs: number;
  rssMB: number;
  routers: number;
  producers: number;
  consumers: number;
}

async function rssMBOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /VmRSS:\s+(\d+)/.exec(status)?.[1];
  return kb === undefined ? 0 : Number(kb) / 1024;
}

export async function sampleWorkers(server: TiepdanServer): Promise<WorkerSample[]> {
  return Promise.all(
    server.pool.workers.map(async (w) => {
      const u = await w.worker.getResourceUsage();
      return { index: w.index, pid: w.pid, cpuMs: u.ru_utime + u.ru_stime, rssMB: await rssMBOf(w.pid), routers: w.routerCount, producers: w.producerCount, consumers: w.consumerCount };
    }),
  );
}

export function nodeRssMB(): number {
  return process.memoryUsage().rss / 1024 / 1024;
}

/** Packets the SFU received from every producer of the session and those it saw missing (sequence gaps). */
export async function producerLoss(server: TiepdanServer, sessionId: string, onlyPeers?: Set<string>): Promise<{ expected: number; lost: number }> {
  const room = server.live.rooms.get(sessionId);
  let expected = 0;
  let lost = 0;
  for (const peer of room?.peers() ?? []) {
    if (onlyPeers !== undefined && !onlyPeers.has(peer.id)) continue;
    for (const { producer } of peer.producers.values()) {
      for (const s of await producer.getStats()) {
        expected += s.packetCount + s.packetsLost;
        lost += s.packetsLost;
      }
    }
  }
  return { expected, lost };
}

/**
 * The kernel's UDP counters (/proc/net/snmp): datagrams dropped because a socket's receive or send
 * buffer was full. Machine-wide (other processes count too), but a rise during a run that shows
 * loss says where the packets went.
 */
export async function udpDrops(): Promise<{ rcvbufErrors: number; sndbufErrors: number }> {
  const text = await readFile('/proc/net/snmp', 'utf8').catch(() => '');
  const [names, values] = text.split('\n').filter((l) => l.startsWith('Udp:'));
  if (names === undefined || values === undefined) return { rcvbufErrors: 0, sndbufErrors: 0 };
  const n = names.split(/\s+/);
  const v = values.split(/\s+/).map(Number);
  const get = (k: string) => v[n.indexOf(k)] ?? 0;
  return { rcvbufErrors: get('RcvbufErrors'), sndbufErrors: get('SndbufErrors') };
}

/** RTP packets the SFU forwarded to the session's consumers so far (for the workers' CPU per packet). */
export async function consumerPackets(server: TiepdanServer, sessionId: string): Promise<number> {
  let n = 0;
  for (const peer of server.live.rooms.get(sessionId)?.peers() ?? []) {
    for (const c of peer.consumers.values()) {
      for (const s of await c.getStats()) if (s.type === 'outbound-rtp') n += s.packetCount;
    }
  }
  return n;
}

/**
 * CPU (ms, user + system) of this process's Chromium descendants, from /proc: the central point's
 * browser decodes every commune, and on a 2-core machine it competes with the server and the
 * generator, so a run must say what the browser took. Processes that ended are not counted
 * (their time is lost), so a sample is taken before and after the window with the same browser.
 */
export async function browserCpuMs(): Promise<number> {
  const msPerTick = 1000 / 100; // USER_HZ, the unit of /proc/<pid>/stat times, is 100 on Linux
  const entries = await readdir('/proc').catch(() => [] as string[]);
  const stats = new Map<number, { ppid: number; comm: string; ticks: number }>();
  await Promise.all(
    entries.filter((e) => /^\d+$/.test(e)).map(async (pid) => {
      const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
      // comm is in parentheses and may hold spaces: the fields after the last ')' are fixed.
      const close = text.lastIndexOf(')');
      if (close < 0) return;
      const comm = text.slice(text.indexOf('(') + 1, close);
      const f = text.slice(close + 2).split(' ');
      stats.set(Number(pid), { ppid: Number(f[1]), comm, ticks: Number(f[11]) + Number(f[12]) });
    }),
  );
  const isOurs = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 1 && hops < 64; hops++) {
      if (p === process.pid) return true;
      p = stats.get(p)?.ppid ?? 0;
    }
    return false;
  };
  let ticks = 0;
  for (const [pid, s] of stats) if (/^(chrom|chrome_)/.test(s.comm) && isOurs(pid)) ticks += s.ticks;
  return ticks * msPerTick;
}
