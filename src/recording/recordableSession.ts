import type { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';

/** One producer of a session as the recorder sees it (no personal data: ids and labels only). */
export interface RecordedProducer {
  producer: types.Producer;     // lives on `RecordableSession.router`
  peerId: string;               // stable participant id within the session (not a name)
  label: string;                // bridge-point label or role label, e.g. "Điểm cầu trung tâm"
  source: 'microphone' | 'camera' | 'screen';
}

export type RecordableSessionEvents = {
  producerAdded: [RecordedProducer];
  producerClosed: [producerId: string];
  ended: [];
};

/** What a live session offers to the recorder. */
export interface RecordableSession extends EventEmitter<RecordableSessionEvents> {
  readonly id: string;
  /** A router on which every producer of the session is available (piped there if the session spans routers). */
  readonly router: types.Router;
  producers(): RecordedProducer[];
  /**
   * True once the session has ended (after its `ended`). A recorder that started while the room
   * was closing (its start waited on the database and the lease) missed `ended`, and checks this.
   */
  readonly closed?: boolean;
}
