// rooms.js end to end in node (no window, no document): the script is fetched from a real front end
// (ROOMS_URL), run as a browser would run a script tag, and driven through the sails.io.js API.
// Run by Tests/WebFrontend.Tests (RoomsJsTests), which starts the front end; by hand:
//   ROOMS_URL=http://127.0.0.1:5000 ROOMS_ADMIN_KEY=secret node --test test/rooms.test.mjs
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import vm from 'node:vm';
import { createRequire } from 'node:module';

const url = process.env.ROOMS_URL;
const adminKey = process.env.ROOMS_ADMIN_KEY;
// A proxy in front of the same front end whose network `POST /test/sever?refuseMs=` cuts (connections reset,
// new ones refused meanwhile), and the front end's resume window.
const proxyUrl = process.env.ROOMS_PROXY_URL;
const windowMs = Number(process.env.ROOMS_WINDOW_MS || 15000);
assert.ok(url, 'ROOMS_URL must name the front end to test against');
const TIMEOUT = 15000;

// Node 22+ has a WebSocket of its own; node 20 and 18 get the `ws` package the lock file pins (a dependency
// of @microsoft/signalr), as a page's io.sails.WebSocket would be set by hand.
const WebSocketType = globalThis.WebSocket ?? createRequire(import.meta.url)('ws');

const script = await fetch(new URL('/rooms.js', url));
assert.equal(script.status, 200);
vm.runInThisContext(await script.text(), { filename: 'rooms.js' });
const io = globalThis.io;
io.sails.url = url;
io.sails.WebSocket = WebSocketType;

// Made before the socket has connected (it connects on the next tick): queued, then sent in order.
assert.equal(io.socket.isConnected(), false);
const queuedRoom = room();
const queued = [
  io.socket.post('/joinFunRoom', { roomName: queuedRoom }),
  io.socket.get('/socketRooms'),
  io.socket.get('/socketId'),
];
const sockets = [io.socket];

after(async () => {
  await Promise.all(sockets.map((s) => s.disconnect()));
});

test('requests made before the connection is up are answered, in order', async () => {
  const [joined, rooms, id] = await within(Promise.all(queued), 'the queued requests');
  assert.equal(io.socket.isConnected(), true);
  assert.equal(joined.statusCode, 200);
  assert.deepEqual(rooms.body.sort(), [io.socket.id, queuedRoom].sort());
  assert.equal(id.body, io.socket.id);
});

test('callbacks get (body, jwr) with status, headers and body', async () => {
  const roomName = room();
  const [body, jwr] = await within(new Promise((resolve) => io.socket.post('/joinFunRoom', { roomName }, (b, j) => resolve([b, j]))), 'the callback');
  assert.deepEqual(body, { message: `Joined a fun room called ${roomName}!` });
  assert.equal(jwr.statusCode, 200);
  assert.match(jwr.headers['content-type'], /^application\/json/);
  assert.deepEqual(jwr.body, body);

  const [text, bad] = await within(new Promise((resolve) => io.socket.post('/leaveFunRoom', (b, j) => resolve([b, j]))), 'the 400 callback');
  assert.equal(bad.statusCode, 400);
  assert.equal(text, '`roomName` is required.');
});

test('the Promise form resolves with the jwr for every status code', async () => {
  const missing = await within(io.socket.get('/funRoomSubscribers'), 'GET without roomName');
  const unknown = await within(io.socket.delete('/no/such/route'), 'DELETE of an unknown route');
  const put = await within(io.socket.put('/joinFunRoom', { roomName: 'x' }), 'PUT of a POST route');
  const patch = await within(io.socket.patch('/joinFunRoom', { roomName: 'x' }), 'PATCH of a POST route');
  assert.equal(missing.statusCode, 400);
  assert.equal(missing.body, '`roomName` is required.');
  assert.equal(unknown.statusCode, 404);
  assert.equal(put.statusCode, 405);
  assert.equal(patch.statusCode, 405);
});

test('request() sends method, url, data and headers; io.sails.headers go with every request', async () => {
  const denied = await within(io.socket.request({ method: 'get', url: '/rooms', data: { limit: 5 } }), 'GET /rooms without the key');
  const allowed = await within(io.socket.request({ method: 'get', url: '/rooms', data: { limit: 5 }, headers: { 'x-admin-key': adminKey } }), 'GET /rooms with the key');
  io.sails.headers = { 'x-admin-key': adminKey };
  const viaDefaults = await within(io.socket.get('/rooms?limit=5'), 'GET /rooms with io.sails.headers');
  io.sails.headers = {};
  assert.equal(denied.statusCode, 403);
  assert.equal(allowed.statusCode, 200);
  assert.ok(Array.isArray(allowed.body.rooms));
  assert.equal(viaDefaults.statusCode, 200);
  assert.throws(() => io.socket.request({ method: 'get' }), /url/);
});

test('on() receives broadcasts to the rooms the socket joined; off() stops them', async () => {
  const listener = io.sails.connect();
  sockets.push(listener);
  const roomName = room();
  await within(listener.post('/joinFunRoom', { roomName }), 'the listener joining');
  const news = [];
  const first = deferred();
  const marker = deferred();
  const onNews = (payload) => { news.push(payload); first.resolve(); };
  listener.on('news', onNews);
  listener.on('marker', (payload) => marker.resolve(payload));

  await within(io.socket.post('/broadcastFunRoom', { roomName, eventName: 'news', data: { n: 1 } }), 'the first broadcast');
  await within(first.promise, 'the first event');
  listener.off('news', onNews);
  await within(io.socket.post('/broadcastFunRoom', { roomName, eventName: 'news', data: { n: 2 } }), 'the second broadcast');
  await within(io.socket.post('/broadcastFunRoom', { roomName, eventName: 'marker', data: 'end' }), 'the marker');
  assert.equal(await within(marker.promise, 'the marker event'), 'end');
  assert.deepEqual(news, [{ n: 1 }]);

  await within(listener.post('/leaveFunRoom', { roomName }), 'the listener leaving');
  const subscribers = await within(io.socket.get('/funRoomSubscribers', { roomName }), 'the subscribers');
  assert.deepEqual(subscribers.body, []);
});

test('after a dropped connection the socket comes back as the same socket, with its handlers and the requests made meanwhile', async () => {
  const socket = io.sails.connect();
  sockets.push(socket);
  const connected = deferred();
  socket.on('connect', connected.resolve);
  await within(connected.promise, 'the first connect');
  const before = socket.id;
  const disconnected = deferred();
  const reconnected = deferred();
  const pinged = deferred();
  socket.on('disconnect', disconnected.resolve);
  socket.on('reconnect', (id, info) => reconnected.resolve({ id, info }));
  socket.on('ping', pinged.resolve);

  const drop = await fetch(new URL(`/test/drop/${encodeURIComponent(before)}`, url), { method: 'POST' });
  assert.equal(drop.status, 200);
  await within(disconnected.promise, 'the disconnect event');
  assert.equal(socket.isConnected(), false);
  const meanwhile = socket.get('/socketId');
  const { id: after, info } = await within(reconnected.promise, 'the reconnect event');

  assert.equal(after, before);
  assert.equal(info.resumed, true);
  assert.equal(socket.id, before);
  assert.equal((await within(meanwhile, 'the request made while reconnecting')).body, before);
  await within(socket.post('/broadcastFunRoom', { roomName: before, eventName: 'ping', data: 'pong' }), 'the ping');
  assert.equal(await within(pinged.promise, 'the ping event'), 'pong');
});

test('a 3 s outage comes back as the same socket, with every event sent meanwhile once and in order', { skip: !proxyUrl && 'no ROOMS_PROXY_URL' }, async () => {
  const socket = io.sails.connect(proxyUrl);
  sockets.push(socket);
  const roomName = room();
  await within(socket.post('/joinFunRoom', { roomName }), 'joining through the proxy');
  const before = socket.id;
  const ticks = [];
  const tick = waiter();
  socket.on('tick', (p) => { ticks.push(p.i); tick.seen(p.i); });
  const reconnecting = deferred();
  const reconnected = deferred();
  socket.on('reconnecting', reconnecting.resolve);
  socket.on('reconnect', (id, info) => reconnected.resolve({ id, info }));
  await broadcast(roomName, 0, 5);
  await within(tick.until(4), 'ticks 0-4');

  const cut = Date.now();
  await sever(3000);
  await within(reconnecting.promise, 'the reconnecting event');
  const meanwhile = socket.get('/socketRooms'); // made during the outage: answered on the resumed connection
  await broadcast(roomName, 5, 20);
  assert.ok(Date.now() - cut < 3000, 'the 20 broadcasts were all sent while the network was out');
  const { id, info } = await within(reconnected.promise, 'the reconnect event');
  const back = Date.now() - cut;

  assert.equal(id, before);
  assert.equal(info.resumed, true);
  assert.equal(socket.id, before);
  assert.deepEqual((await within(meanwhile, 'the request made during the outage')).body.sort(), [before, roomName].sort());
  await broadcast(roomName, 25, 5);
  await within(tick.until(29), 'ticks 25-29');
  assert.deepEqual(ticks, [...Array(30).keys()]);
  console.log(`# rooms.js: cut for 3 s, resumed ${back} ms after the cut (${back - 3000} ms after the network returned), ${info.attempts} attempts`);
});

test('past the window the socket comes back as a fresh one, and says so', { skip: !proxyUrl && 'no ROOMS_PROXY_URL' }, async () => {
  const socket = io.sails.connect(proxyUrl);
  sockets.push(socket);
  const roomName = room();
  await within(socket.post('/joinFunRoom', { roomName }), 'joining through the proxy');
  const before = socket.id;
  const reconnected = deferred();
  socket.on('reconnect', (id, info) => reconnected.resolve({ id, info }));

  const cut = Date.now();
  await sever(windowMs + 1500);
  const { id, info } = await within(reconnected.promise, 'the reconnect event', windowMs + 10000);
  const back = Date.now() - cut;

  assert.notEqual(id, before);
  assert.equal(info.resumed, false);
  assert.equal(info.previousId, before);
  assert.equal(socket.id, id);
  assert.deepEqual((await within(socket.get('/socketRooms'), 'the rooms of the fresh socket')).body, [id]);
  assert.deepEqual((await within(io.socket.get('/funRoomSubscribers', { roomName }), 'the subscribers')).body, []);
  console.log(`# rooms.js: window ${windowMs} ms, cut for ${windowMs + 1500} ms: a fresh socket ${back} ms after the cut`);
});

test('disconnect() ends a resumable socket at once: it is not held for a resume', async () => {
  const socket = io.sails.connect();
  const roomName = room();
  await within(socket.post('/joinFunRoom', { roomName }), 'joining');
  const id = socket.id;
  const started = Date.now();
  await within(socket.disconnect(), 'the disconnect');
  let listed = [id];
  while (listed.includes(id)) {
    assert.ok(Date.now() - started < 2000, `socket ${id} still in ${roomName} 2 s after disconnect() (the window is ${windowMs} ms)`);
    listed = (await within(io.socket.get('/funRoomSubscribers', { roomName }), 'the subscribers')).body;
  }

  console.log(`# rooms.js: disconnect(): out of its rooms ${Date.now() - started} ms later`);
});

test('presence(room): a tracker gets the state, a watcher syncs it, and both see joins, updates and leaves once', async () => {
  const watcher = io.sails.connect();
  const tracker = io.sails.connect();
  sockets.push(watcher, tracker);
  const roomName = room();
  await within(watcher.post('/joinFunRoom', { roomName }), 'the watcher joining');

  // What the watcher is told, in order; reached(n) resolves once it was told n changes.
  const seen = [];
  const waiting = [];
  const saw = (change) => {
    seen.push(change);
    waiting.filter((w) => seen.length >= w.n).forEach((w) => w.resolve());
  };
  const reached = (n) => {
    const d = deferred();
    waiting.push({ n, resolve: d.resolve });
    if (seen.length >= n) d.resolve();
    return d.promise;
  };
  const watched = watcher.presence(roomName)
    .onJoin((key, current, joined) => saw(`+${key}:${joined.metas.map((m) => m.status).join(',')}`))
    .onLeave((key, current, left) => saw(`-${key}:${left.metas.map((m) => m.status).join(',')}${current ? '' : ' (gone)'}`));
  assert.deepEqual(await within(watched.sync(), 'the watcher syncing'), []);
  const synced = deferred();
  const listsItself = deferred();
  const mine = tracker.presence(roomName).onSync(() => {
    synced.resolve();
    if (mine.list().length === 1) listsItself.resolve();
  });

  const tracked = await within(tracker.post('/presence/track', { roomName, key: 'ann', meta: { status: 'online' } }), 'the track');
  assert.equal(tracked.statusCode, 200);
  await within(synced.promise, "the tracker's state");
  await within(Promise.all([listsItself.promise, reached(1)]), "the tracker's own join");
  assert.equal(mine.list()[0].metas[0].ref, tracker.id);
  assert.deepEqual(watched.list((key, p) => `${key}:${p.metas.length}`), ['ann:1']);

  await within(tracker.post('/presence/update', { roomName, meta: { status: 'away' } }), 'the update');
  await within(reached(3), 'the update as a leave and a join');
  await within(tracker.post('/presence/untrack', { roomName }), 'the untrack');
  await within(reached(4), 'the leave');
  assert.deepEqual(seen, ['+ann:online', '-ann:online', '+ann:away', '-ann:away (gone)']);
  assert.deepEqual(watched.list(), []);

  const bad = await within(tracker.post('/presence/track', { roomName, meta: 'not an object' }), 'a bad track');
  assert.equal(bad.statusCode, 400);
  assert.match(JSON.stringify(bad.body), /JSON object/);
});

async function broadcast(roomName, from, count) {
  for (let i = from; i < from + count; i++) {
    const jwr = await within(io.socket.post('/broadcastFunRoom', { roomName, eventName: 'tick', data: { i } }), `broadcast ${i}`);
    assert.equal(jwr.statusCode, 200);
  }
}

async function sever(refuseMs) {
  const response = await fetch(new URL(`/test/sever?refuseMs=${refuseMs}`, url), { method: 'POST' });
  assert.equal(response.status, 200);
}

// Resolves until(i) once tick i was seen.
function waiter() {
  const seen = new Set();
  const waiting = new Map();
  return {
    seen(i) {
      seen.add(i);
      waiting.get(i)?.resolve();
    },
    until(i) {
      if (seen.has(i)) {
        return Promise.resolve();
      }

      const d = deferred();
      waiting.set(i, d);
      return d.promise;
    },
  };
}

function room() {
  return `js-${Math.random().toString(36).slice(2, 12)}`;
}

function deferred() {
  let resolve;
  const promise = new Promise((r) => { resolve = r; });
  return { promise, resolve };
}

function within(promise, what, ms = TIMEOUT) {
  let timer;
  const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
