import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import { DownlinkBudget } from './DownlinkBudget.ts';
import type { ParticipantRole } from '../tokens/tokenSigner.ts';
import { ROLE_PERMISSIONS, type MediaSource, type RolePermissions } from './sessionMedia.ts';

/** What other peers learn about a peer: ids, role and the label chosen by the organiser. */
export interface PeerSummary {
  peerId: string;
  role: ParticipantRole;
  label: string;
}

/** A consumer as the viewing peer's client needs it to call `recvTransport.consume()`. */
export interface ConsumerDescription {
  consumerId: string;
  producerId: string;
  peerId: string;
  kind: types.MediaKind;
  source: MediaSource;
  rtpParameters: types.RtpParameters;
  type: types.ConsumerType;
  producerPaused: boolean;
}

export type SessionState = { state: 'live' | 'ended'; recording: boolean };

export type PeerRemovalReason = 'left' | 'ejected' | 'ended' | 'timeout' | 'replaced' | 'revoked';

/**
 * Everything a peer must be told, as typed events. The signaling layer forwards them to the peer's
 * socket; the media layer knows nothing of sockets.
 */
export type SessionPeerEvents = {
  peerJoined: [PeerSummary];
  peerLeft: [peerId: string, reason: PeerRemovalReason];
  newConsumer: [ConsumerDescription];
  consumerClosed: [consumerId: string];
  consumerPaused: [consumerId: string];
  consumerResumed: [consumerId: string];
  consumerLayersChanged: [consumerId: string, layers: types.ConsumerLayers | undefined];
  producerScore: [producerId: string, score: types.ProducerScore[]];
  /** One of this peer's producers was paused or closed by the host or the server. */
  producerPaused: [producerId: string, byHost: boolean];
  activeSpeaker: [peerId: string];
  audioLevels: [levels: { peerId: string; volume: number }[]];
  /** For moderators: who waits in the lobby. */
  lobby: [waiting: PeerSummary[]];
  /**
   * For moderators: someone else joined with the invitation of a seat (security review M1) —
   * refused while the seat is connected (`inLobby: false`), or sent to the lobby while it is away.
   */
  seatContested: [PeerSummary & { inLobby: boolean }];
  admitted: [];
  /** The peer was removed from the session (ejected, session ended, replaced, timed out). */
  removed: [reason: PeerRemovalReason];
  sessionState: [SessionState];
  /** For moderators: the recorder warns (disk space running low). */
  recordingWarning: [{ freeBytes: number }];
  /** The session's router was rebuilt (worker died): the client must set up its media again. */
  mediaReset: [routerRtpCapabilities: types.RtpCapabilities];
  /** A participant started or stopped recording locally in its browser (everyone must see it). */
  localRecording: [LocalRecordingState];
};

/** Who records locally (browser MediaRecorder at a bridge point), as every peer is told. */
export interface LocalRecordingState {
  peerId: string;
  label: string;
  recording: boolean;
}

export interface PeerProducer {
  producer: types.Producer;
  source: MediaSource;
  /** Size of the top simulcast layer as the client announced it, for layer selection. */
  size: { width: number; height: number } | undefined;
  /** The same producer on the session's primary router (itself, or its pipe producer there). */
  onPrimary: types.Producer;
}

/** One participant of a session room: its role, transports, producers and consumers. */
export class SessionPeer extends EventEmitter<SessionPeerEvents> {
  readonly id: string;
  readonly role: ParticipantRole;
  readonly label: string;
  readonly permissions: RolePermissions;
  admitted: boolean;
  rtpCapabilities: types.RtpCapabilities | undefined;
  readonly transports = new Map<string, types.WebRtcTransport>();
  readonly producers = new Map<string, PeerProducer>();
  readonly consumers = new Map<string, types.Consumer>();
  /** The spatial layer each simulcast consumer's view asks for, before the downlink budget caps it. */
  readonly wantedLayers = new Map<string, number>();
  /** What the peer's receive link carries; a new receive transport starts a new one. */
  downlink = new DownlinkBudget();
  readonly joinedAt = Date.now();

  constructor(id: string, role: ParticipantRole, label: string, admitted: boolean) {
    super();
    this.id = id;
    this.role = role;
    this.label = label;
    this.permissions = ROLE_PERMISSIONS[role];
    this.admitted = admitted;
  }

  get summary(): PeerSummary {
    return { peerId: this.id, role: this.role, label: this.label };
  }

  get recvTransport(): types.WebRtcTransport | undefined {
    let last: types.WebRtcTransport | undefined;
    for (const t of this.transports.values()) if (t.appData.direction === 'recv' && !t.closed) last = t;
    return last;
  }

  /** Forgets media state without closing (the router is already gone). */
  dropMediaState(): void {
    this.transports.clear();
    this.producers.clear();
    this.consumers.clear();
    this.wantedLayers.clear();
    this.rtpCapabilities = undefined;
  }
}
