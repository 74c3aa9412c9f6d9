import { isIP } from 'node:net';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import type { types } from 'mediasoup';

/**
 * Which addresses the SFU puts in its ICE candidates, i.e. where a browser sends its media.
 *
 * The workers' WebRtcServers listen on `RTC_LISTEN_IP` (default `0.0.0.0`, every address), and an
 * unspecified address is worthless in a candidate: a browser cannot send to `0.0.0.0`. So:
 *
 * - `RTC_ANNOUNCED_ADDRESS` set (one or several, comma-separated; NAT, a public name): exactly those;
 * - `RTC_LISTEN_IP` a specific address: that address;
 * - otherwise (the default), per connection: first the local address that the browser's WebSocket
 *   reached, because that is an address this browser can route to, then every other non-loopback
 *   address of the machine (read when the transport is made, so a DHCP change or a new VLAN needs
 *   no restart). Loopback only when the browser itself came over loopback (a browser on the server)
 *   or the machine has no other address.
 *
 * The socket bound to `0.0.0.0` answers on every address, so any of them works; the order only
 * decides which the browser tries first (higher ICE priority).
 */
export type AnnouncedAddressMode = 'configured' | 'listen-ip' | 'per-connection';

export interface AnnouncedAddressesOptions {
  listenIp: string;
  /** RTC_ANNOUNCED_ADDRESS split at commas (IP addresses or host names); empty: not configured. */
  announced: readonly string[];
  /** The machine's interfaces (tests pass a fixed table); defaults to os.networkInterfaces. */
  interfaces?: () => NodeJS.Dict<NetworkInterfaceInfo[]>;
}

/** What the start-up log and /readyz say about media addresses. */
export interface AnnouncedAddressesSummary {
  mode: AnnouncedAddressMode;
  /** Addresses a browser gets (for `per-connection`: the machine's, the reached one is put first). */
  addresses: string[];
}

/** More than this many addresses only slows ICE down (each one is a candidate pair to check). */
const MAX_ADDRESSES = 8;

export class AnnouncedAddresses {
  readonly mode: AnnouncedAddressMode;
  readonly #listenIp: string;
  readonly #announced: readonly string[];
  readonly #interfaces: () => NodeJS.Dict<NetworkInterfaceInfo[]>;
  /** The socket is IPv6 (dual stack on Linux): IPv6 addresses are reachable as well. */
  readonly #ipv6: boolean;

  constructor(options: AnnouncedAddressesOptions) {
    this.#listenIp = options.listenIp;
    this.#announced = options.announced.slice(0, MAX_ADDRESSES);
    this.#interfaces = options.interfaces ?? networkInterfaces;
    this.#ipv6 = isIP(options.listenIp) === 6;
    this.mode = this.#announced.length > 0 ? 'configured' : isUnspecified(options.listenIp) ? 'per-connection' : 'listen-ip';
  }

  /** The machine's own addresses the media socket answers on, best first (no loopback, no link-local). */
  machineAddresses(): string[] {
    const out: string[] = [];
    for (const infos of Object.values(this.#interfaces())) {
      for (const info of infos ?? []) {
        if (info.internal) continue;
        if (info.family === 'IPv4' && !info.address.startsWith('169.254.')) out.push(info.address);
        else if (info.family === 'IPv6' && this.#ipv6 && !/^fe[89ab]/i.test(info.address)) out.push(info.address);
      }
    }
    // IPv4 first: commune networks are IPv4, and an IPv6 pair that fails costs a check each.
    return out.sort((a, b) => isIP(a) - isIP(b));
  }

  /**
   * The addresses for one browser, best first. `reached` is the local address of the connection
   * the browser made to us (its WebSocket or HTTP request), when known.
   */
  forConnection(reached?: string): string[] {
    if (this.mode === 'configured') return [...this.#announced];
    if (this.mode === 'listen-ip') return [this.#listenIp];
    const first = reached === undefined ? undefined : this.#usable(reached);
    const list = [...(first === undefined ? [] : [first]), ...this.machineAddresses()];
    if (list.length === 0) list.push(this.#ipv6 ? '::1' : '127.0.0.1');
    return [...new Set(list)].slice(0, MAX_ADDRESSES);
  }

  /**
   * The transport's candidates as this browser must get them: one candidate per address and
   * protocol, UDP before TCP whatever the address, the addresses in `forConnection` order.
   */
  candidatesFor(candidates: readonly types.IceCandidate[], reached?: string): types.IceCandidate[] {
    const addresses = this.forConnection(reached);
    const byPriority = [...candidates].sort((a, b) => b.priority - a.priority);
    const out: types.IceCandidate[] = [];
    for (const c of byPriority) {
      addresses.forEach((address, k) => {
        // mediasoup's priorities differ by protocol in the local-preference bits (× 256), so
        // subtracting the address rank (< 256) keeps UDP above TCP and orders the addresses.
        out.push({ ...c, address, ip: address, priority: c.priority - k, foundation: `${c.foundation}${k}` });
      });
    }
    return out;
  }

  summary(): AnnouncedAddressesSummary {
    return { mode: this.mode, addresses: this.forConnection() };
  }

  /** A reached address the media socket can answer on, in the form a candidate needs. */
  #usable(reached: string): string | undefined {
    // IPv4 over an IPv6 socket arrives as ::ffff:a.b.c.d.
    const address = reached.startsWith('::ffff:') && isIP(reached.slice(7)) === 4 ? reached.slice(7) : reached;
    const family = isIP(address);
    if (family === 0 || isUnspecified(address)) return undefined;
    if (family === 6 && !this.#ipv6) return undefined;
    return address;
  }
}

function isUnspecified(ip: string): boolean {
  return ip === '0.0.0.0' || ip === '::';
}
