import t from 'tap';
import { FloorRequests } from './floorRequests.ts';

t.test('raised hands: in the order raised, per session, lowered once', async (t) => {
  const f = new FloorRequests();
  t.equal(f.set('s1', 'b', 'Xã B', true, new Date('2026-04-15T01:00:02Z')), true);
  t.equal(f.set('s1', 'a', 'Xã A', true, new Date('2026-04-15T01:00:05Z')), true);
  t.equal(f.set('s1', 'b', 'Xã B', true, new Date('2026-04-15T01:00:09Z')), false, 'raising twice changes nothing (and keeps its place)');
  t.same(f.list('s1').map((h) => h.peerId), ['b', 'a'], 'who asked first comes first');
  t.same(f.list('s2'), [], 'another session has its own hands');
  t.equal(f.set('s1', 'b', 'Xã B', false, new Date()), true);
  t.equal(f.set('s1', 'b', 'Xã B', false, new Date()), false);
  t.same(f.list('s1').map((h) => h.peerId), ['a']);
  f.clear('s1');
  t.same(f.list('s1'), []);
});
