import { EventEmitter } from 'node:events';
import t from 'tap';
import type { ChangeFeedEvents } from '../../db/changeFeed.ts';
import { SessionListCache } from './sessionListCache.ts';

class FakeFeed extends EventEmitter<ChangeFeedEvents> {
  listening = true;
}

function deferred<V>(): { promise: Promise<V>; resolve: (v: V) => void; reject: (e: Error) => void } {
  let resolve!: (v: V) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<V>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

t.test('off without a listening feed: every call loads', async (t) => {
  const cache = new SessionListCache<number>();
  let loads = 0;
  await cache.get('k', async () => ++loads);
  await cache.get('k', async () => ++loads);
  t.equal(loads, 2, 'no feed attached');
  const feed = new FakeFeed();
  feed.listening = false;
  cache.attach(feed);
  await cache.get('k', async () => ++loads);
  await cache.get('k', async () => ++loads);
  t.equal(loads, 4, 'feed not listening');
});

t.test('kept until a change, per key; concurrent misses share one load', async (t) => {
  const feed = new FakeFeed();
  const cache = new SessionListCache<string>();
  cache.attach(feed);
  let loads = 0;
  const load = (v: string) => async () => {
    loads++;
    return v;
  };
  const [a, b] = await Promise.all([cache.get('k', load('one')), cache.get('k', load('two'))]);
  t.same([a, b, loads], ['one', 'one', 1]);
  t.equal(await cache.get('other', load('x')), 'x', 'another key is another answer');
  feed.emit('change', 'sessions');
  t.equal(await cache.get('k', load('three')), 'three', 'a change drops it');
  feed.emit('state', false);
  feed.listening = false;
  t.equal(await cache.get('k', load('four')), 'four');
  t.equal(await cache.get('k', load('five')), 'five', 'nothing kept while down');
});

t.test('an answer read while a change was heard is not kept; a failure is not kept', async (t) => {
  const feed = new FakeFeed();
  const cache = new SessionListCache<string>();
  cache.attach(feed);
  const slow = deferred<string>();
  const pending = cache.get('k', () => slow.promise);
  feed.emit('change', 'sessions'); // the write committed while the list was being read
  slow.resolve('before the write');
  t.equal(await pending, 'before the write', 'the caller that asked before it gets its answer');
  t.equal(await cache.get('k', async () => 'after the write'), 'after the write', 'but it is not kept');
  const failing = deferred<string>();
  const failed = cache.get('f', () => failing.promise);
  failing.reject(new Error('db down'));
  await t.rejects(failed);
  t.equal(await cache.get('f', async () => 'ok'), 'ok');
});

t.test('an invalidation while a load is under way is not undone by it', async (t) => {
  const feed = new FakeFeed();
  const cache = new SessionListCache<string>();
  cache.attach(feed);
  const slow = deferred<string>();
  const first = cache.get('k', () => slow.promise);
  cache.invalidate(); // e.g. an API write's answer was sent
  const second = cache.get('k', async () => 'fresh');
  slow.resolve('stale');
  t.same(await Promise.all([first, second]), ['stale', 'fresh']);
  t.equal(await cache.get('k', async () => 'again'), 'fresh', 'the fresh one is kept');
});

t.test('entries older than the maximum age are read again', async (t) => {
  let now = 0;
  const cache = new SessionListCache<number>({ now: () => now, maxAgeMs: 1000 });
  cache.attach(new FakeFeed());
  let loads = 0;
  await cache.get('k', async () => ++loads);
  now = 999;
  await cache.get('k', async () => ++loads);
  now = 1000;
  await cache.get('k', async () => ++loads);
  t.equal(loads, 2);
});
