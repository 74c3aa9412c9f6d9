import type { types } from 'mediasoup';
import { TiepdanError } from '../errors.ts';
import type { Logger } from '../logging/logger.ts';
import { DownlinkBudget } from '../sfu/DownlinkBudget.ts';
import { spatialLayerForSize } from './media.ts';
import type { ConsumerDescription, Peer } from './Peer.ts';
import type { RoomMedia } from './RoomRouters.ts';

/** Consumer priority of a thumbnail (layer 0); a bigger view adds its layer index (mediasoup: 1–255). */
const VIEW_PRIORITY_BASE = 1;

export interface SubscriptionsOptions {
  routers: RoomMedia;
  logger: Logger;
  /** The room's peers (admitted or not). */
  peers: () => Iterable<Peer>;
  /** The room's visibility rule (permissions.ts `canSee` with the room's settings). */
  canSee: (viewer: Peer, owner: Peer) => boolean;
}

/**
 * Who consumes what in one room (LiveKit's SubscriptionManager): every viewer gets a consumer of
 * every producer it may see, made paused until its client resumes it, and each simulcast consumer
 * sits on the layer the viewer's tile wants and its downlink carries.
 */
export class Subscriptions {
  readonly #o: SubscriptionsOptions;
  /**
   * Indexes kept so that no per-event work walks the whole room: a province session has ~270
   * producers and ~550 consumers, and each producer's score event (about one a second) used to
   * scan every viewer's consumers and every peer's producers (issue 14: O(N²) per second).
   */
  readonly #ownerOfProducer = new Map<string, Peer>();
  /** Per producer, its consumer per viewer (a viewer consumes a producer once). */
  readonly #consumersOfProducer = new Map<string, Map<string, { viewer: Peer; consumer: types.Consumer }>>();
  /** Each producer's layers' maxBitrate, read once: mediasoup's rtpParameters getter deep-copies. */
  readonly #bitrates = new WeakMap<types.Producer, (number | undefined)[]>();

  constructor(options: SubscriptionsOptions) {
    this.#o = options;
  }

  /** Consumes everything `viewer` may see that it does not consume yet. */
  consumeAll(viewer: Peer): void {
    for (const owner of this.#o.peers()) {
      for (const entry of owner.producers.values()) this.consumeSafely(viewer, owner, entry.producer);
    }
  }

  /** Every viewer that may see `owner` consumes its new producer. */
  fanOut(owner: Peer, producer: types.Producer): void {
    this.#register(owner, producer);
    for (const viewer of this.#o.peers()) this.consumeSafely(viewer, owner, producer);
  }

  #register(owner: Peer, producer: types.Producer): void {
    if (this.#ownerOfProducer.has(producer.id) || producer.closed) return;
    this.#ownerOfProducer.set(producer.id, owner);
    producer.observer.once('close', () => {
      this.#ownerOfProducer.delete(producer.id);
      this.#consumersOfProducer.delete(producer.id);
    });
  }

  /** A newly admitted peer: it sees the others, the others see it. */
  admitted(peer: Peer): void {
    this.consumeAll(peer);
    for (const other of this.#o.peers()) {
      if (other === peer) continue;
      for (const entry of peer.producers.values()) this.consumeSafely(other, peer, entry.producer);
    }
  }

  /**
   * #consume started from an event or a loop, nobody awaiting it: whatever it throws is logged
   * here. Unawaited, a throw from mediasoup (canConsume on hostile capabilities overflowed the
   * stack) was an unhandled rejection, and that ends the Node process: every session on the
   * server (found by test/guards/signalingFuzz.test.ts).
   */
  consumeSafely(viewer: Peer, owner: Peer, producer: types.Producer): void {
    this.#consume(viewer, owner, producer).catch((err: unknown) => {
      this.#o.logger.warn({ err, peerId: viewer.id, producerId: producer.id }, 'consume failed unexpectedly');
    });
  }

  async #consume(viewer: Peer, owner: Peer, producer: types.Producer): Promise<void> {
    if (!this.#o.canSee(viewer, owner) || viewer.rtpCapabilities === undefined || producer.closed) return;
    this.#register(owner, producer);
    const transport = viewer.recvTransport;
    if (transport === undefined) return;
    if (this.#consumerOf(viewer, producer.id) !== undefined) return;
    const slot = this.#o.routers.slotOf(viewer.id);
    if (slot === undefined || !slot.router.canConsume({ producerId: producer.id, rtpCapabilities: viewer.rtpCapabilities })) {
      this.#o.logger.warn({ peerId: viewer.id, producerId: producer.id }, 'peer cannot consume producer (codecs)');
      return;
    }
    let consumer: types.Consumer;
    try {
      // Paused until the client has set it up and asks to resume: no lost key frame. Audio keeps
      // its retransmission buffer too (mediasoup keeps one only for video by default): on a lossy
      // commune link a lost Opus packet is asked for again (NACK) instead of concealed.
      consumer = await transport.consume({ producerId: producer.id, rtpCapabilities: viewer.rtpCapabilities, paused: true, enableRtx: true });
    } catch (err) {
      if (!transport.closed && !producer.closed) this.#o.logger.warn({ err, peerId: viewer.id }, 'consume failed');
      return;
    }
    // Another call may have raced this one for the same producer.
    if (this.#consumerOf(viewer, producer.id) !== undefined) {
      consumer.close();
      return;
    }
    viewer.consumers.set(consumer.id, consumer);
    let ofProducer = this.#consumersOfProducer.get(producer.id);
    if (ofProducer === undefined) this.#consumersOfProducer.set(producer.id, (ofProducer = new Map()));
    ofProducer.set(viewer.id, { viewer, consumer });
    const forget = () => {
      if (viewer.consumers.delete(consumer.id)) viewer.emit('consumerClosed', consumer.id);
    };
    consumer.on('transportclose', forget);
    consumer.on('producerclose', forget);
    consumer.observer.once('close', () => {
      const ofProducer = this.#consumersOfProducer.get(producer.id);
      if (ofProducer?.get(viewer.id)?.consumer === consumer) ofProducer.delete(viewer.id);
      viewer.consumers.delete(consumer.id);
      viewer.wantedLayers.delete(consumer.id);
    });
    consumer.on('producerpause', () => viewer.emit('consumerPaused', consumer.id));
    consumer.on('producerresume', () => viewer.emit('consumerResumed', consumer.id));
    consumer.on('layerschange', (layers) => viewer.emit('consumerLayersChanged', consumer.id, layers));
    // Before the client resumes it: the first key frame is of a layer the link can carry.
    await this.#fitLayer(viewer, consumer);
    if (consumer.closed) return;
    viewer.emit('newConsumer', describe(consumer, owner));
  }

  /** The peer's current consumers, for a client resuming after a reconnect. */
  describeConsumers(viewer: Peer): ConsumerDescription[] {
    const out: ConsumerDescription[] = [];
    for (const consumer of viewer.consumers.values()) {
      const owner = this.#ownerOf(consumer.producerId);
      if (owner !== undefined) out.push(describe(consumer, owner));
    }
    return out;
  }

  /** The viewer's open consumer of the producer, if any. */
  #consumerOf(viewer: Peer, producerId: string): types.Consumer | undefined {
    const entry = this.#consumersOfProducer.get(producerId)?.get(viewer.id);
    return entry !== undefined && entry.viewer === viewer && !entry.consumer.closed ? entry.consumer : undefined;
  }

  #ownerOf(producerId: string): Peer | undefined {
    const known = this.#ownerOfProducer.get(producerId);
    if (known !== undefined && known.producers.has(producerId)) return known;
    for (const peer of this.#o.peers()) if (peer.producers.has(producerId)) return peer;
    return undefined;
  }

  #findProducer(producerId: string): types.Producer | undefined {
    return this.#ownerOf(producerId)?.producers.get(producerId)?.producer;
  }

  async setPreferredLayers(viewer: Peer, consumerId: string, layers: types.ConsumerLayers): Promise<void> {
    const consumer = viewer.consumer(consumerId);
    if (consumer.type !== 'simulcast' && consumer.type !== 'svc') {
      throw new TiepdanError('NOT_LAYERED', 'this consumer has a single layer');
    }
    if (consumer.type === 'svc') return consumer.setPreferredLayers(layers);
    viewer.wantedLayers.set(consumer.id, layers.spatialLayer);
    const layer = this.#budgetLayer(viewer, consumer);
    await consumer.setPreferredLayers(layer < layers.spatialLayer ? { spatialLayer: layer } : layers);
  }

  /** Chooses the simulcast layer from the size the viewer displays the video at. */
  async setViewSize(viewer: Peer, consumerId: string, view: { width: number; height: number }): Promise<number> {
    const consumer = viewer.consumer(consumerId);
    if (consumer.type !== 'simulcast') return 0;
    const entry = this.#ownerOf(consumer.producerId)?.producers.get(consumer.producerId);
    // A simulcast consumer has one encoding; the layer count is the producer's.
    const layer = spatialLayerForSize(this.#bitratesOf(entry?.producer).length, entry?.size, view);
    viewer.wantedLayers.set(consumer.id, layer);
    await this.#fitLayer(viewer, consumer);
    // When the viewer's link cannot carry everything, mediasoup shares it by priority: the big
    // tile (the speaker) before the thumbnails. Priority grows with the layer the view wants.
    await consumer.setPriority(VIEW_PRIORITY_BASE + layer);
    return layer;
  }

  /**
   * Follows the receive transport's bandwidth estimate (one report a second) and keeps every
   * simulcast consumer of the peer on the layer its downlink budget carries (DownlinkBudget says why).
   */
  async watchDownlink(peer: Peer, transport: types.WebRtcTransport): Promise<void> {
    peer.downlink = new DownlinkBudget();
    transport.on('trace', (trace) => {
      if (trace.type !== 'bwe' || typeof trace.info !== 'object' || trace.info === null) return;
      const available = (trace.info as { availableBitrate?: unknown }).availableBitrate;
      if (typeof available !== 'number' || !peer.downlink.observe(available)) return;
      for (const consumer of peer.consumers.values()) void this.#fitLayer(peer, consumer);
    });
    await transport.enableTraceEvent(['bwe']);
  }

  /** A sender stopped or restarted a simulcast layer: its viewers' layers are fitted again. */
  refitViewersOf(producerId: string): void {
    for (const { viewer, consumer } of this.#consumersOfProducer.get(producerId)?.values() ?? []) void this.#fitLayer(viewer, consumer);
  }

  /**
   * The layer a consumer gets: what its view wants (default the top), capped by the downlink budget.
   * When the sender is not sending that layer (Chrome under CPU load stops its smallest layer first),
   * the lowest layer above it that is sent: capping to a silent layer would freeze the picture.
   */
  #budgetLayer(viewer: Peer, consumer: types.Consumer): number {
    const producer = this.#findProducer(consumer.producerId);
    const bitrates = this.#bitratesOf(producer);
    const wanted = viewer.wantedLayers.get(consumer.id) ?? bitrates.length - 1;
    const layer = viewer.downlink.layerFor(bitrates, wanted, consumer.preferredLayers?.spatialLayer ?? 0);
    const sent = new Set((producer?.score ?? []).filter((s) => s.score > 0).map((s) => s.encodingIdx));
    if (sent.size === 0 || sent.has(layer)) return layer;
    for (let i = layer + 1; i < bitrates.length; i++) if (sent.has(i)) return i;
    return layer;
  }

  #bitratesOf(producer: types.Producer | undefined): (number | undefined)[] {
    if (producer === undefined) return [undefined];
    let bitrates = this.#bitrates.get(producer);
    if (bitrates === undefined) {
      bitrates = (producer.rtpParameters.encodings ?? [{}]).map((e) => e.maxBitrate);
      this.#bitrates.set(producer, bitrates);
    }
    return bitrates;
  }

  async #fitLayer(viewer: Peer, consumer: types.Consumer): Promise<void> {
    if (consumer.type !== 'simulcast' || consumer.closed) return;
    const layer = this.#budgetLayer(viewer, consumer);
    if (consumer.preferredLayers?.spatialLayer === layer) return;
    try {
      await consumer.setPreferredLayers({ spatialLayer: layer });
      this.#o.logger.debug({ peerId: viewer.id, consumerId: consumer.id, layer, budget: viewer.downlink.videoBitrate }, 'video layer fitted to the downlink');
    } catch (err) {
      if (!consumer.closed) this.#o.logger.warn({ err, peerId: viewer.id }, 'could not set the video layer');
    }
  }
}

function describe(consumer: types.Consumer, owner: Peer): ConsumerDescription {
  return {
    consumerId: consumer.id,
    producerId: consumer.producerId,
    peerId: owner.id,
    kind: consumer.kind,
    source: owner.producers.get(consumer.producerId)?.source ?? (consumer.kind === 'audio' ? 'microphone' : 'camera'),
    rtpParameters: consumer.rtpParameters,
    type: consumer.type,
    producerPaused: consumer.producerPaused,
  };
}
