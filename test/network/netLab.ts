/**
 * A small network laboratory for the network-conditions suite: each "commune" is a Linux network
 * namespace joined to the root namespace (where the server runs) by a veth pair, and its link can be
 * made thin (tc tbf) or lossy (iptables statistic). There is no netem on the CI machines, so there is
 * no added delay: the only delay is what a full tbf queue adds, as on a real thin link.
 *
 * Everything it creates is named `tdn-<pid>-<n>` (namespaces) and `tdn<pid>r<n>` / `tdn<pid>n<n>`
 * (the veth ends), lives in 198.18.0.0/15 (the benchmarking range, never routed anywhere), and is
 * removed by close(), by process exit and signal handlers, and, for runs that died by SIGKILL, by a
 * sweep at the start of the next run. Firewall rules live only inside the commune namespaces (they
 * vanish with them); the root namespace gets nothing but the veth ends and their qdiscs.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

const IP = '/usr/sbin/ip';
const TC = '/usr/sbin/tc';
const IPTABLES = '/usr/sbin/iptables';
const SYSCTL = '/usr/sbin/sysctl';
/** Every command is bounded: a wedged `ip` must fail the test, not hang CI. */
const COMMAND_TIMEOUT_MS = 10_000;

const NS_RE = /^tdn-(\d+)-(\d+)$/;
/** iptables chains (inside a commune namespace) for the impairments. */
const IMPAIR_IN = 'tdn-impair-in';
const IMPAIR_OUT = 'tdn-impair-out';
const ROOT_LINK_RE = /^tdn(\d+)r(\d+)$/;
const TMP_RE = /^tdn-(\d+)-/;

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: COMMAND_TIMEOUT_MS, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${path.basename(cmd)} ${args.join(' ')}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

/** Best effort, synchronous: for exit handlers, where nothing asynchronous runs any more. */
function runSync(cmd: string, args: string[]): string | undefined {
  try {
    return execFileSync(cmd, args, { timeout: COMMAND_TIMEOUT_MS, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but is not ours to signal, so it is alive.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Kills whatever still runs inside a namespace (a browser left by a dead run keeps it, and its veth, alive). */
function killInside(ns: string): void {
  const pids = runSync(IP, ['netns', 'pids', ns]) ?? '';
  for (const p of pids.split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(p), 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function removeNamespaceSync(ns: string, rootLink: string): void {
  killInside(ns);
  // Deleting one veth end deletes the pair, even while a process still holds the namespace.
  runSync(IP, ['link', 'del', rootLink]);
  runSync(IP, ['netns', 'del', ns]);
}

/**
 * Removes namespaces, veth ends and temp directories that runs which no longer exist left behind
 * (killed by SIGKILL, or by a crash of Node itself). Returns what it removed, for the log.
 */
export function sweepStale(): string[] {
  const removed: string[] = [];
  const names = (runSync(IP, ['netns', 'list']) ?? '').split('\n').map((l) => l.split(' ')[0] ?? '');
  for (const ns of names) {
    const m = NS_RE.exec(ns);
    if (!m || alive(Number(m[1]))) continue;
    removeNamespaceSync(ns, `tdn${m[1]}r${m[2]}`);
    removed.push(ns);
  }
  const links = (runSync(IP, ['-o', 'link', 'show']) ?? '').split('\n').map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1] ?? '');
  for (const link of links) {
    const m = ROOT_LINK_RE.exec(link);
    if (!m || alive(Number(m[1]))) continue;
    runSync(IP, ['link', 'del', link]);
    removed.push(link);
  }
  for (const entry of readdirSync(tmpdir())) {
    const m = TMP_RE.exec(entry);
    if (!m || alive(Number(m[1]))) continue;
    rmSync(path.join(tmpdir(), entry), { recursive: true, force: true });
    removed.push(path.join(tmpdir(), entry));
  }
  return removed;
}

/** Why this machine cannot run the suite (not root, no iproute2, no namespaces), or undefined when it can. */
export function unavailableReason(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'network namespaces need root, and this process is not root';
  for (const bin of [IP, TC, IPTABLES]) if (!existsSync(bin)) return `${bin} is missing (apt-get install iproute2 iptables)`;
  const probe = `tdn-${process.pid}-999`;
  if (runSync(IP, ['netns', 'add', probe]) === undefined) return 'cannot create a network namespace here (`ip netns add` failed: a container without CAP_SYS_ADMIN?)';
  runSync(IP, ['netns', 'del', probe]);
  return undefined;
}

/**
 * One commune bridge point: a namespace `tdn-<pid>-<n>` with 198.18.<k>.2/24, whose gateway is
 * 198.18.<k>.1 on the root side (an address of the server's machine, so the commune reaches the
 * server there). Downlink = server → commune, uplink = commune → server.
 */
export class Commune {
  readonly name: string;
  readonly ns: string;
  /** The root-side veth end (its egress is the commune's downlink). */
  readonly rootLink: string;
  /** The namespace-side veth end (its egress is the commune's uplink). */
  readonly nsLink: string;
  /** The server's address as this commune sees it (the root-side veth end). */
  readonly gateway: string;
  readonly address: string;
  readonly subnet: number;
  #closed = false;
  readonly #onClose: (c: Commune) => void;

  constructor(options: { name: string; ns: string; rootLink: string; nsLink: string; subnet: number; onClose: (c: Commune) => void }) {
    this.name = options.name;
    this.ns = options.ns;
    this.rootLink = options.rootLink;
    this.nsLink = options.nsLink;
    this.subnet = options.subnet;
    this.gateway = `198.18.${options.subnet}.1`;
    this.address = `198.18.${options.subnet}.2`;
    this.#onClose = options.onClose;
  }

  /** Runs a command inside the namespace. */
  exec(cmd: string, args: string[]): Promise<string> {
    return run(IP, ['netns', 'exec', this.ns, cmd, ...args]);
  }

  /** Server → commune at `kbit` kbit/s (tbf on the root-side veth's egress). */
  limitDownlink(kbit: number): Promise<void> {
    return this.#limit(false, kbit);
  }

  /** Commune → server at `kbit` kbit/s (tbf on the namespace-side veth's egress). */
  limitUplink(kbit: number): Promise<void> {
    return this.#limit(true, kbit);
  }

  /**
   * A token bucket shaped like a DSL or 3G modem's queue: a 300 ms drop-tail buffer (those modems
   * buffer a few hundred milliseconds; the growing delay is what the browsers' and the SFU's
   * delay-based congestion control react to, before any loss), and a bucket of 20 ms of line rate
   * but at least two full-size packets, so that the link serialises packets as a modem does instead
   * of letting a burst through at veth speed after each idle moment.
   */
  async #limit(uplink: boolean, kbit: number): Promise<void> {
    const burstBytes = Math.max(3000, Math.round((kbit * 1000) / 8 / 50));
    const args = ['qdisc', 'replace', 'dev', uplink ? this.nsLink : this.rootLink, 'root', 'tbf', 'rate', `${kbit}kbit`, 'burst', String(burstBytes), 'latency', '300ms'];
    if (uplink) await this.exec(TC, args);
    else await run(TC, args);
  }

  /** Random loss of UDP packets towards the commune (see #loss). */
  lossDownlink(pct: number): Promise<void> {
    return this.#loss('INPUT', pct);
  }

  /** Random loss of UDP packets from the commune (see #loss). */
  lossUplink(pct: number): Promise<void> {
    return this.#loss('OUTPUT', pct);
  }

  /**
   * UDP only: the media (RTP, RTCP, STUN, DTLS) is UDP and is what loss concealment, NACK and FEC
   * are about; the page and the signaling are TCP, which retransmits, so dropping them only adds
   * delays the measurements do not look at (and would slow the harness's page loads instead).
   */
  async #loss(chain: 'INPUT' | 'OUTPUT', pct: number): Promise<void> {
    if (!(pct > 0 && pct < 100)) throw new Error(`loss must be between 0 and 100 %, got ${pct}`);
    const dir = chain === 'INPUT' ? '-i' : '-o';
    await this.#rule(chain, ['!', dir, 'lo', '-p', 'udp', '-m', 'statistic', '--mode', 'random', '--probability', String(pct / 100), '-j', 'DROP']);
  }

  /** Impairments go to chains of their own, so clear() leaves the guard (see setUp) alone. */
  #rule(chain: 'INPUT' | 'OUTPUT', spec: string[]): Promise<string> {
    return this.exec(IPTABLES, ['-w', '-A', chain === 'INPUT' ? IMPAIR_IN : IMPAIR_OUT, ...spec]);
  }

  /**
   * Firewall set-up at creation: the impairment chains, then a guard that lets the commune send
   * only to its own link and to the root namespace's own addresses (where the server, its TURN and
   * every announced media address live). Should the machine forward packets, nothing from a test
   * browser leaves it.
   */
  async setUp(rootAddresses: readonly string[]): Promise<void> {
    for (const [chain, own] of [['INPUT', IMPAIR_IN], ['OUTPUT', IMPAIR_OUT]] as const) {
      await this.exec(IPTABLES, ['-w', '-N', own]);
      await this.exec(IPTABLES, ['-w', '-A', chain, '-j', own]);
    }
    await this.exec(IPTABLES, ['-w', '-A', 'OUTPUT', '-o', 'lo', '-j', 'ACCEPT']);
    await this.exec(IPTABLES, ['-w', '-A', 'OUTPUT', '-d', `198.18.${this.subnet}.0/24`, '-j', 'ACCEPT']);
    for (const a of rootAddresses) await this.exec(IPTABLES, ['-w', '-A', 'OUTPUT', '-d', a, '-j', 'ACCEPT']);
    await this.exec(IPTABLES, ['-w', '-A', 'OUTPUT', '-j', 'DROP']);
  }

  /** A network that lets no UDP through (both directions): media must use ICE over TCP. */
  async blockUdp(): Promise<void> {
    await this.#rule('OUTPUT', ['!', '-o', 'lo', '-p', 'udp', '-j', 'DROP']);
    await this.#rule('INPUT', ['!', '-i', 'lo', '-p', 'udp', '-j', 'DROP']);
  }

  /** Drops the commune's TCP connection attempts to ports `from`–`to` (a firewall's outbound block). */
  blockTcpPorts(from: number, to: number = from): Promise<void> {
    return this.#blockPorts('tcp', from, to);
  }

  /** Drops the commune's UDP packets to ports `from`–`to`. */
  blockUdpPorts(from: number, to: number = from): Promise<void> {
    return this.#blockPorts('udp', from, to);
  }

  async #blockPorts(proto: 'tcp' | 'udp', from: number, to: number): Promise<void> {
    await this.#rule('OUTPUT', ['!', '-o', 'lo', '-p', proto, '--dport', `${from}:${to}`, '-j', 'DROP']);
  }

  /** Back to a clean link: no rate limits, no impairment rules (the guard stays). */
  async clear(): Promise<void> {
    await run(TC, ['qdisc', 'del', 'dev', this.rootLink, 'root']).catch(() => undefined);
    await this.exec(TC, ['qdisc', 'del', 'dev', this.nsLink, 'root']).catch(() => undefined);
    await this.exec(IPTABLES, ['-w', '-F', IMPAIR_IN]);
    await this.exec(IPTABLES, ['-w', '-F', IMPAIR_OUT]);
  }

  /** What is applied right now (qdiscs with their drop counters, firewall rules), for failure reports. */
  async describe(): Promise<string> {
    const down = await run(TC, ['-s', 'qdisc', 'show', 'dev', this.rootLink]).catch((e: Error) => e.message);
    const up = await this.exec(TC, ['-s', 'qdisc', 'show', 'dev', this.nsLink]).catch((e: Error) => e.message);
    const rules = await this.exec(IPTABLES, ['-w', '-S']).catch((e: Error) => e.message);
    const impairments = rules.split('\n').filter((l) => l.startsWith(`-A ${IMPAIR_IN} `) || l.startsWith(`-A ${IMPAIR_OUT} `));
    return `downlink: ${down.trim()}\nuplink: ${up.trim()}\nrules: ${impairments.join('; ') || 'none'}`;
  }

  /** Removes the namespace and the veth pair (kills anything still running inside). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    removeNamespaceSync(this.ns, this.rootLink);
    this.#onClose(this);
  }

  get closed(): boolean {
    return this.#closed;
  }
}

/** The root namespace's own IPv4 addresses but loopback (packets to them never leave the machine). */
function rootAddresses(): string[] {
  const out = (runSync(IP, ['-4', '-o', 'addr', 'show']) ?? '').matchAll(/inet (\d+\.\d+\.\d+\.\d+)\//g);
  return [...out].map((m) => m[1] ?? '').filter((a) => a !== '' && !a.startsWith('127.'));
}

/** Subnets 198.18.<k>.0/24 in use on this machine right now (ours, or a parallel run's). */
function usedSubnets(): Set<number> {
  const used = new Set<number>();
  for (const m of (runSync(IP, ['-4', '-o', 'addr', 'show']) ?? '').matchAll(/inet 198\.18\.(\d+)\./g)) used.add(Number(m[1]));
  return used;
}

const live = new Set<NetLab>();
let handlersInstalled = false;

/** Exit and signal handlers: whatever happens to the process, the namespaces go with it. */
function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => {
    for (const lab of live) lab.closeSync();
  });
  const codes = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      for (const lab of live) lab.closeSync();
      // Exit, as the signal's default action would: Playwright's own handlers (installed with the
      // browsers) close them but leave the process running. 128 + n says which signal it was.
      process.exit(128 + codes[signal]);
    });
  }
}

export class NetLab {
  readonly #communes = new Set<Commune>();
  readonly #reserved = new Set<number>();
  #next = 0;
  /** A temp directory for browser wrapper scripts and sockets (`tdn-<pid>-…`, swept like the rest). */
  readonly tmp: string;
  /** What the start-up sweep removed (left by runs that were killed). */
  readonly swept: readonly string[];

  private constructor(tmp: string, swept: string[]) {
    this.tmp = tmp;
    this.swept = swept;
  }

  /** Sweeps what dead runs left, then opens a lab whose everything is removed at exit. */
  static async open(): Promise<NetLab> {
    installHandlers();
    const swept = sweepStale();
    const lab = new NetLab(await mkdtemp(path.join(tmpdir(), `tdn-${process.pid}-`)), swept);
    live.add(lab);
    return lab;
  }

  /** Creates a commune namespace with its veth pair, addresses, loopback and default route. */
  async addCommune(name: string): Promise<Commune> {
    const n = this.#next++;
    const pid = process.pid;
    const subnet = this.#freeSubnet();
    const commune = new Commune({ name, ns: `tdn-${pid}-${n}`, rootLink: `tdn${pid}r${n}`, nsLink: `tdn${pid}n${n}`, subnet, onClose: (c) => this.#communes.delete(c) });
    // Registered before the first command, so a failure half-way is still cleaned up.
    this.#communes.add(commune);
    try {
      await run(IP, ['netns', 'add', commune.ns]);
      await run(IP, ['link', 'add', commune.rootLink, 'type', 'veth', 'peer', 'name', commune.nsLink]);
      // IPv4 only, as commune networks are: without IPv6 no link-local address arrives a second
      // after the link is up, which Chromium takes for a network change (ERR_NETWORK_CHANGED on the
      // first page load).
      await run(IP, ['netns', 'exec', commune.ns, SYSCTL, '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
      await run(IP, ['link', 'set', commune.nsLink, 'netns', commune.ns]);
      // Nor on the root side: the central point's Chromium sees the root namespace's addresses.
      await run(SYSCTL, ['-q', '-w', `net.ipv6.conf.${commune.rootLink}.disable_ipv6=1`]);
      await run(IP, ['addr', 'add', `${commune.gateway}/24`, 'dev', commune.rootLink]);
      await run(IP, ['link', 'set', commune.rootLink, 'up']);
      await run(IP, ['-n', commune.ns, 'addr', 'add', `${commune.address}/24`, 'dev', commune.nsLink]);
      await run(IP, ['-n', commune.ns, 'link', 'set', commune.nsLink, 'up']);
      await run(IP, ['-n', commune.ns, 'link', 'set', 'lo', 'up']);
      await run(IP, ['-n', commune.ns, 'route', 'add', 'default', 'via', commune.gateway]);
      await commune.setUp(rootAddresses());
    } catch (err) {
      commune.close();
      throw err;
    } finally {
      this.#reserved.delete(subnet);
    }
    return commune;
  }

  /** A subnet no interface uses, starting from a per-process offset so parallel runs rarely meet. */
  #freeSubnet(): number {
    const used = usedSubnets();
    for (let i = 0; i < 254; i++) {
      const k = 1 + ((process.pid + i) % 254);
      if (!used.has(k) && !this.#reserved.has(k)) {
        this.#reserved.add(k);
        return k;
      }
    }
    throw new Error('no free 198.18.<k>.0/24 subnet');
  }

  get communes(): readonly Commune[] {
    return [...this.#communes];
  }

  /** Removes every commune and the temp directory. Synchronous, so exit handlers can use it too. */
  closeSync(): void {
    for (const c of this.#communes) c.close();
    rmSync(this.tmp, { recursive: true, force: true });
    live.delete(this);
  }

  async close(): Promise<void> {
    this.closeSync();
  }
}
