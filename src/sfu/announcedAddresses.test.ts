import t from 'tap';
import type { NetworkInterfaceInfo } from 'node:os';
import type { types } from 'mediasoup';
import { AnnouncedAddresses } from './announcedAddresses.ts';

const nic = (address: string, family: 'IPv4' | 'IPv6', internal = false): NetworkInterfaceInfo =>
  family === 'IPv4'
    ? { address, family, internal, netmask: '255.255.255.0', mac: '00:00:00:00:00:00', cidr: null }
    : { address, family, internal, netmask: 'ffff:ffff:ffff:ffff::', mac: '00:00:00:00:00:00', cidr: null, scopeid: 0 };

const machine = () => ({
  lo: [nic('127.0.0.1', 'IPv4', true), nic('::1', 'IPv6', true)],
  eth0: [nic('10.20.0.5', 'IPv4'), nic('fe80::1', 'IPv6'), nic('2001:db8::5', 'IPv6')],
  eth1: [nic('169.254.3.3', 'IPv4'), nic('192.168.1.10', 'IPv4')],
});

const mediasoupCandidates: types.IceCandidate[] = [
  { foundation: 'tcpcandidate', priority: 1076302079, ip: '0.0.0.0', address: '0.0.0.0', protocol: 'tcp', port: 40000, type: 'host', tcpType: 'passive' },
  { foundation: 'udpcandidate', priority: 1076558079, ip: '0.0.0.0', address: '0.0.0.0', protocol: 'udp', port: 40000, type: 'host' },
];

t.test('defaults (0.0.0.0, nothing announced): the reached address, then the machine, never 0.0.0.0', async (t) => {
  const a = new AnnouncedAddresses({ listenIp: '0.0.0.0', announced: [], interfaces: machine });
  t.equal(a.mode, 'per-connection');
  t.same(a.forConnection(), ['10.20.0.5', '192.168.1.10'], 'no loopback, no link-local, IPv4 only on an IPv4 socket');
  t.same(a.forConnection('192.168.1.10'), ['192.168.1.10', '10.20.0.5'], 'the reached address first, not twice');
  t.same(a.forConnection('::ffff:10.20.0.5'), ['10.20.0.5', '192.168.1.10'], 'an IPv4-mapped address is unwrapped');
  t.same(a.forConnection('127.0.0.1'), ['127.0.0.1', '10.20.0.5', '192.168.1.10'], 'a browser on the server itself gets loopback first');
  t.same(a.forConnection('2001:db8::5'), ['10.20.0.5', '192.168.1.10'], 'an IPv6 reach is no use to an IPv4 socket');
  t.same(a.forConnection('0.0.0.0'), ['10.20.0.5', '192.168.1.10']);
  const bare = new AnnouncedAddresses({ listenIp: '0.0.0.0', announced: [], interfaces: () => ({ lo: [nic('127.0.0.1', 'IPv4', true)] }) });
  t.same(bare.forConnection(), ['127.0.0.1'], 'a machine with no network still serves its own browser');
});

t.test('configured and specific listen addresses win', async (t) => {
  const nat = new AnnouncedAddresses({ listenIp: '0.0.0.0', announced: ['203.0.113.7', 'tcd.gialai.gov.vn'], interfaces: machine });
  t.equal(nat.mode, 'configured');
  t.same(nat.forConnection('10.20.0.5'), ['203.0.113.7', 'tcd.gialai.gov.vn'], 'RTC_ANNOUNCED_ADDRESS overrides the reached address (NAT)');
  const bound = new AnnouncedAddresses({ listenIp: '10.20.0.5', announced: [], interfaces: machine });
  t.equal(bound.mode, 'listen-ip');
  t.same(bound.forConnection('192.168.1.10'), ['10.20.0.5'], 'a socket bound to one address can only be reached there');
  const v6 = new AnnouncedAddresses({ listenIp: '::', announced: [], interfaces: machine });
  t.same(v6.forConnection(), ['10.20.0.5', '192.168.1.10', '2001:db8::5'], 'an IPv6 socket also announces global IPv6, after IPv4');
});

t.test('candidates: one per address and protocol, UDP before TCP, the reached address first', async (t) => {
  const a = new AnnouncedAddresses({ listenIp: '0.0.0.0', announced: [], interfaces: machine });
  const out = a.candidatesFor(mediasoupCandidates, '192.168.1.10');
  t.same(
    out.map((c) => `${c.protocol} ${c.address}:${c.port}`),
    ['udp 192.168.1.10:40000', 'udp 10.20.0.5:40000', 'tcp 192.168.1.10:40000', 'tcp 10.20.0.5:40000'],
  );
  const priorities = out.map((c) => c.priority);
  t.same(priorities, [...priorities].sort((x, y) => y - x), 'priorities strictly in that order');
  t.equal(new Set(out.map((c) => c.foundation)).size, out.length, 'distinct foundations');
  t.ok(out.every((c) => c.ip === c.address), 'the deprecated ip field agrees');
  t.same(a.candidatesFor([mediasoupCandidates[0]!], '10.20.0.5').map((c) => c.protocol), ['tcp', 'tcp'], 'a TCP-only transport stays TCP-only');
});
