/**
 * The load generator's own SRTP (bench/load/srtp.ts) is byte-compatible with werift's, which the
 * server already accepts today: packets protected here are unprotected by werift's SrtpSession
 * built from the same master keys, and werift's packets are unprotected here, for both profiles
 * the points offer, across a sequence-number rollover (the ROC enters the IV and the HMAC). A wrong
 * IV, AAD or ROC makes werift reject the packet, so these checks fail if either is wrong.
 */
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { keyLength, RtpHeader, RtpPacket, saltLength, SrtpSession } from 'werift';
import { OutboundStream, EXT_AUDIO_LEVEL, EXT_MID, EXT_RID } from '../../bench/load/rtpStreams.ts';
import { PROFILE_AEAD_AES_128_GCM, PROFILE_AES_CM_128_HMAC_SHA1_80, SrtpReceiver, SrtpSender, type SrtpProfile, type SrtpSessionKeys } from '../../bench/load/srtp.ts';

/** Two werift sessions facing each other: `a` protects with key A, `b` unprotects A (and the reverse). */
function sessions(profile: SrtpProfile) {
  const A = { key: randomBytes(keyLength(profile)!), salt: randomBytes(saltLength(profile)!) };
  const B = { key: randomBytes(keyLength(profile)!), salt: randomBytes(saltLength(profile)!) };
  const a = new SrtpSession({ keys: { localMasterKey: A.key, localMasterSalt: A.salt, remoteMasterKey: B.key, remoteMasterSalt: B.salt }, profile });
  const b = new SrtpSession({ keys: { localMasterKey: B.key, localMasterSalt: B.salt, remoteMasterKey: A.key, remoteMasterSalt: A.salt }, profile });
  const keysA: SrtpSessionKeys = { profile, key: a.localContext.srtpSessionKey, salt: a.localContext.srtpSessionSalt, authKey: a.localContext.srtpSessionAuthTag };
  return { a, b, keysA };
}

function header(seq: number, ssrc: number): Buffer {
  return new RtpHeader({ payloadType: 101, sequenceNumber: seq, timestamp: 1234, ssrc, marker: false, extensions: [{ id: EXT_MID, payload: Buffer.from('1') }, { id: EXT_RID, payload: Buffer.from('r2') }] }).serialize(24);
}

const ROLLOVER = [65533, 65534, 65535, 0, 1, 2];

for (const [name, profile] of [['AEAD_AES_128_GCM', PROFILE_AEAD_AES_128_GCM], ['AES_CM_128_HMAC_SHA1_80', PROFILE_AES_CM_128_HMAC_SHA1_80]] as const) {
  t.test(`${name}: protected here, unprotected by werift, across a rollover`, async (t) => {
    const { b, keysA } = sessions(profile);
    const sender = new SrtpSender(keysA);
    const ssrc = 0x11223344;
    for (const [i, seq] of ROLLOVER.entries()) {
      const roc = i >= 3 ? 1 : 0;
      const h = header(seq, ssrc);
      const payload = [Buffer.from([0x90, 0x80]), randomBytes(300 + i)];
      const clear = Buffer.concat([h, ...payload]);
      const out = sender.protect(h, payload, ssrc, seq, roc);
      t.same(b.decrypt(out), clear, `seq ${seq} (ROC ${roc}) decrypts to the packet sent`);
    }
    // The ROC is in the IV (GCM) / the HMAC (CM): a wrong one must not pass werift's check.
    const { b: fresh, keysA: k2 } = sessions(profile);
    const wrong = new SrtpSender(k2).protect(header(7, ssrc), [randomBytes(50)], ssrc, 7, 1);
    t.throws(() => fresh.decrypt(wrong), 'a packet protected with the wrong ROC is rejected by werift');
  });

  t.test(`${name}: protected by werift, unprotected here, across a rollover`, async (t) => {
    const { a, keysA } = sessions(profile);
    const receiver = new SrtpReceiver(keysA, 1);
    const ssrc = 0x55667788;
    for (const seq of ROLLOVER) {
      const h = new RtpHeader({ payloadType: 100, sequenceNumber: seq, timestamp: 99, ssrc, marker: true, extensions: [{ id: EXT_MID, payload: Buffer.from('0') }] });
      const payload = randomBytes(80);
      const r = receiver.receive(a.encrypt(payload, h));
      t.ok(r?.clear !== undefined, `seq ${seq} authenticates`);
      t.same(r?.clear?.subarray(r.clear.length - payload.length), payload, `seq ${seq} decrypts`);
      t.equal(r?.seq, seq);
      t.equal(r?.ssrc, ssrc);
    }
    t.equal(receiver.checked, ROLLOVER.length);
    t.equal(receiver.failures, 0);
    // A changed header byte (the AAD / authenticated part) fails; it is counted.
    const h = new RtpHeader({ payloadType: 100, sequenceNumber: 3, timestamp: 99, ssrc, marker: true, extensions: [{ id: EXT_MID, payload: Buffer.from('0') }] });
    const tampered = Buffer.from(a.encrypt(randomBytes(80), h));
    tampered[4]! ^= 1;
    t.equal(receiver.receive(tampered), undefined, 'a packet with a changed header is rejected');
    t.equal(receiver.failures, 1);
  });

  t.test(`${name}: the header templates are what werift parses (mid, rid, audio level)`, async (t) => {
    const { b, keysA } = sessions(profile);
    const sender = new SrtpSender(keysA);
    const audio = new OutboundStream(100, '0', { audioLevel: true });
    const video = new OutboundStream(101, '1', { rid: 'r1' });
    const [p] = audio.opus(randomBytes(60), 20);
    const rtp = RtpPacket.deSerialize(b.decrypt(sender.protect(p!.header, p!.payload, p!.ssrc, p!.seq, p!.roc)));
    t.equal(rtp.header.ssrc, audio.ssrc);
    t.equal(rtp.header.payloadType, 100);
    t.same(rtp.header.extensions.find((e) => e.id === EXT_MID)?.payload, Buffer.from('0'));
    t.same(rtp.header.extensions.find((e) => e.id === EXT_AUDIO_LEVEL)?.payload, Buffer.from([0x80 | 20]));
    t.same(rtp.payload, p!.payload[0]);
    const frame = randomBytes(2500);
    const packets = video.vp8(frame, 6000);
    t.equal(packets.length, 3, 'a 2,500-byte frame is three packets');
    const parsed = packets.map((q) => RtpPacket.deSerialize(b.decrypt(sender.protect(q.header, q.payload, q.ssrc, q.seq, q.roc))));
    t.same(parsed.map((q) => q.header.marker), [false, false, true], 'the marker is on the frame’s last packet');
    t.same(parsed.map((q) => q.header.sequenceNumber), packets.map((q) => q.seq));
    t.same(parsed[0]!.header.extensions.find((e) => e.id === EXT_RID)?.payload, Buffer.from('r1'));
    t.same(Buffer.concat(parsed.map((q) => q.payload.subarray(4))), frame, 'the VP8 payloads carry the frame');
  });
}
