/**
 * A FAKE of a room's media placement (RoomRouters) for the fast tests of room rules: no worker, no
 * router, no transport. Rules that need no media (lobby, admission, visibility, mute state,
 * ejection) run against it in milliseconds; anything that would touch media fails loudly, so a
 * test cannot pass by accident on a fake. Media behaviour is tested on real workers (Room.test.ts).
 */
import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { RoomMedia, RoomRoutersEvents, RouterSlot } from '../../src/live/RoomRouters.ts';
import type { PoolWorker } from '../../src/sfu/PoolWorker.ts';

const noMedia = (what: string) => new Error(`FakeRoomMedia has no media (${what}): test this on real workers`);

export class FakeRoomMedia extends EventEmitter<RoomRoutersEvents> implements RoomMedia {
  readonly rebuilds = 0;
  closed = false;

  get router(): types.Router {
    throw noMedia('router');
  }

  get worker(): PoolWorker {
    throw noMedia('worker');
  }

  get workers(): PoolWorker[] {
    return [];
  }

  async ready(): Promise<void> {}

  slotOf(): RouterSlot | undefined {
    return undefined;
  }

  async slotFor(): Promise<RouterSlot> {
    throw noMedia('slotFor');
  }

  async spread(): Promise<types.Producer> {
    throw noMedia('spread');
  }

  observeAudio(): void {
    throw noMedia('observeAudio');
  }

  candidatesFor(candidates: types.IceCandidate[]): types.IceCandidate[] {
    return candidates;
  }

  close(): void {
    this.closed = true;
  }
}
