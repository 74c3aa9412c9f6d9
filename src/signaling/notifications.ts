import type { IceServer, RaisedHand } from '../contract/signaling.ts';
import { CLOSE_CODES } from '../contract/signalingConstants.ts';
import type { Peer, PeerEvents, PeerRemovalReason } from '../live/Peer.ts';
import type { SignalingConnection } from './SignalingConnection.ts';

const CLOSE_CODE_OF: Record<Exclude<PeerRemovalReason, 'left'>, number> = {
  ejected: CLOSE_CODES.ejected,
  ended: CLOSE_CODES.ended,
  revoked: CLOSE_CODES.revoked,
  replaced: CLOSE_CODES.replaced,
  timeout: CLOSE_CODES.timeout,
};

/** What the socket's side adds to a peer's events: TURN credentials and the raised hands, when admitted. */
export interface AdmissionExtras {
  iceServers: () => IceServer[];
  raisedHands: () => RaisedHand[];
}

/**
 * Forwards a peer's events to its socket as the contract's notifications; returns the
 * unsubscriber. The mapped type makes a new peer event that is not forwarded fail to compile.
 */
export function forwardPeerEvents(peer: Peer, c: SignalingConnection, extras: AdmissionExtras): () => void {
  const listeners: { [K in keyof PeerEvents]: (...args: PeerEvents[K]) => void } = {
    peerJoined: (p) => c.notify('peerJoined', p),
    peerLeft: (peerId, reason) => c.notify('peerLeft', { peerId, reason }),
    newConsumer: (d) => c.notify('newConsumer', d),
    consumerClosed: (consumerId) => c.notify('consumerClosed', { consumerId }),
    consumerPaused: (consumerId) => c.notify('consumerPaused', { consumerId }),
    consumerResumed: (consumerId) => c.notify('consumerResumed', { consumerId }),
    consumerLayersChanged: (consumerId, layers) => c.notify('consumerLayersChanged', { consumerId, spatialLayer: layers?.spatialLayer ?? null, temporalLayer: layers?.temporalLayer ?? null }),
    producerScore: (producerId, score) => c.notify('producerScore', { producerId, score: score.map((s) => ({ ssrc: s.ssrc, rid: s.rid, score: s.score })) }),
    producerPaused: (producerId, byHost) => c.notify('producerPaused', { producerId, byHost }),
    hostMute: (kind, muted) => c.notify('hostMute', { kind, muted }),
    activeSpeaker: (peerId) => c.notify('activeSpeaker', { peerId }),
    audioLevels: (levels) => c.notify('audioLevels', { levels }),
    lobby: (waiting) => c.notify('lobby', { waiting }),
    seatContested: (who) => c.notify('seatContested', who),
    admitted: () => {
      // The lobby got no TURN credentials (L14) and no raised hands (the join answer lists them
      // only to admitted peers): both come with the admission, the hands first raised first.
      c.notify('admitted', { iceServers: extras.iceServers() });
      for (const hand of extras.raisedHands()) c.notify('handRaised', { peerId: hand.peerId, label: hand.label, raised: true });
    },
    sessionState: (state) => c.notify('sessionState', state),
    recordingWarning: (w) => c.notify('recordingWarning', w),
    mediaReset: (caps) => c.notify('mediaReset', { routerRtpCapabilities: caps }),
    localRecording: (state) => c.notify('localRecording', state),
    removed: (reason) => {
      if (reason === 'left') return c.close(CLOSE_CODES.left, 'left');
      c.notify('kicked', { reason });
      c.close(CLOSE_CODE_OF[reason], reason);
    },
  };
  const events = Object.keys(listeners) as (keyof PeerEvents)[];
  // One cast at the EventEmitter's door: `on` cannot be called with a key union and its listener.
  const on = (event: keyof PeerEvents) => peer.on(event as 'admitted', listeners[event] as () => void);
  const off = (event: keyof PeerEvents) => peer.off(event as 'admitted', listeners[event] as () => void);
  for (const event of events) on(event);
  return () => {
    for (const event of events) off(event);
  };
}
