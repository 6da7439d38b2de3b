// Sails' own wire end to end: the real sails.io.js 1.2.1 over socket.io-client 4.8 (and raw WebSockets for what
// no client sends) against two real front ends of one cluster, A and B. Run by Tests/WebFrontend.Tests
// (SailsWireTests), which starts them with Rooms:SocketIo:PingInterval 500 ms and PingTimeout 3 s, Rooms:ResumeWindow
// 3 s and Rooms:ResumeBufferMaxBytes 4096; by hand:
//   ROOMS_URL=http://127.0.0.1:5000 ROOMS_URL_B=http://127.0.0.1:5001 ROOMS_ADMIN_KEY=k ROOMS_RESUME_WINDOW_MS=3000 \
//   ROOMS_RESUME_BUFFER_MAX_BYTES=4096 node --test test/sails-wire.test.mjs
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import net from 'node:net';

const require = createRequire(import.meta.url);
const ioClient = require('socket.io-client');
const sailsIo = require('sails.io.js');
const signalR = require('@microsoft/signalr');
const WebSocket = require('ws');

const urlA = process.env.ROOMS_URL?.replace(/\/$/, '');
const urlB = (process.env.ROOMS_URL_B || urlA)?.replace(/\/$/, '');
const adminKey = process.env.ROOMS_ADMIN_KEY;
const resumeWindowMs = Number(process.env.ROOMS_RESUME_WINDOW_MS || 15000);
const resumeBufferMaxBytes = Number(process.env.ROOMS_RESUME_BUFFER_MAX_BYTES || 1024 * 1024);
assert.ok(urlA, 'ROOMS_URL must name the front end to test against');
const TIMEOUT = 15000;

// sails.io.js 1.2.1 hands socket.io-client its SailsSocket as the options, whose accessor properties
// socket.io-client 4 drops (path, query, transports): the harness (shared/bench/driver/lib/adapters.js) passes a
// plain copy; so do these tests, but one (below), which connects with no help at all.
const KEYS = ['transports', 'query', 'path', 'reconnection', 'extraHeaders', 'forceNew', 'multiplex'];
function shim(url, opts) {
  const plain = { forceNew: true };
  for (const k of KEYS) if (opts && opts[k] !== undefined) plain[k] = opts[k];
  return ioClient(url, plain);
}
const io = sailsIo(shim);
io.sails.autoConnect = false;
io.sails.environment = 'production';
io.sails.reconnection = false;

const open = [];
after(() => {
  for (const close of open) {
    try { close(); } catch { /* closed already */ }
  }
});

function within(promise, what, ms = TIMEOUT) {
  let timer;
  return Promise.race([promise, new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms); })])
    .finally(() => clearTimeout(timer));
}

// Re-reads what the server says until it holds (there is no event for a socket leaving its rooms), bounded.
async function eventually(read, holds, what, ms = TIMEOUT) {
  const deadline = Date.now() + ms;
  let value = await read();
  while (!holds(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    value = await read();
  }

  assert.ok(holds(value), `${what}: not within ${ms} ms (last read ${JSON.stringify(value)})`);
  return value;
}

function room() { return 'sails-' + Math.random().toString(36).slice(2, 10); }

async function sails(url = urlA) {
  const socket = io.sails.connect(url, { transports: ['websocket'], reconnection: false, multiplex: false });
  open.push(() => socket.disconnect());
  await within(new Promise((resolve, reject) => { socket._raw.once('connect', resolve); socket._raw.once('connect_error', reject); }), 'sails.io.js connect');
  return socket;
}

function request(socket, method, url, data, headers) {
  return within(new Promise((resolve) => socket.request({ method, url, data, headers }, (body, jwr) => resolve(jwr))), `${method} ${url}`);
}

async function signalRSocket(url) {
  const connection = new signalR.HubConnectionBuilder()
    .withUrl(url + '/sockets', { transport: signalR.HttpTransportType.WebSockets })
    .configureLogging(signalR.LogLevel.None)
    .build();
  await within(connection.start(), 'SignalR connect');
  open.push(() => connection.stop());
  return connection;
}

async function admin(url, path, body) {
  const response = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-admin-key': adminKey }, body: JSON.stringify(body) });
  return { status: response.status, body: await response.json().catch(() => null) };
}

/** Collects a socket's events of one name, and waits for the one that satisfies a test. */
function collect(on, event) {
  const seen = [];
  const waiters = [];
  on(event, (payload) => {
    seen.push(payload);
    for (const w of [...waiters]) if (w.match(payload)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(); }
  });
  return {
    seen,
    until(match, what) {
      if (seen.some(match)) return Promise.resolve();
      return within(new Promise((resolve) => waiters.push({ match, resolve })), what);
    },
  };
}

test('virtual requests answer JWRs through the app\'s endpoints, the socket id the one the client sees', async () => {
  const socket = await sails();
  const id = await request(socket, 'get', '/socketId');
  assert.equal(id.statusCode, 200);
  assert.equal(id.body, socket._raw.id);

  const roomName = room();
  const joined = await request(socket, 'post', '/joinFunRoom', { roomName });
  assert.equal(joined.statusCode, 200);
  assert.deepEqual(joined.body, { message: `Joined a fun room called ${roomName}!` });
  assert.match(joined.headers['content-type'], /^application\/json/);

  const rooms = await request(socket, 'get', '/socketRooms');
  assert.deepEqual([...rooms.body].sort(), [socket._raw.id, roomName].sort());
  const subscribers = await request(socket, 'get', '/funRoomSubscribers', { roomName });
  assert.deepEqual(subscribers.body, [socket._raw.id]);

  const bad = await request(socket, 'post', '/leaveFunRoom');
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.body, '`roomName` is required.');
  const missing = await request(socket, 'get', '/no/such/route');
  assert.equal(missing.statusCode, 404);
  const forbidden = await request(socket, 'post', '/kickFromFunRoom', { socketId: socket._raw.id, roomName });
  assert.equal(forbidden.statusCode, 403);
  const kicked = await request(socket, 'post', '/kickFromFunRoom', { socketId: socket._raw.id, roomName }, { 'x-admin-key': adminKey });
  assert.equal(kicked.statusCode, 200);
});

test('sails.io.js 1.2.1 over socket.io-client 4.8 connects as it is, with no options shim (it lands on /engine.io)', async () => {
  const plain = sailsIo(ioClient);
  plain.sails.autoConnect = false;
  plain.sails.environment = 'production';
  const socket = plain.sails.connect(urlA, { reconnection: false });
  open.push(() => socket.disconnect());
  await within(new Promise((resolve, reject) => { socket._raw.once('connect', resolve); socket._raw.once('connect_error', reject); }), 'unshimmed connect');
  const id = await request(socket, 'get', '/socketId');
  assert.equal(id.statusCode, 200);
  assert.equal(id.body, socket._raw.id);
});

test('a room shared with a SignalR socket on the other front end: each gets each broadcast once', async () => {
  const roomName = room();
  const s = await sails(urlA);
  const r = await signalRSocket(urlB);
  const sEvents = collect((e, f) => s.on(e, f), 'shared');
  const rEvents = collect((e, f) => r.on(e, f), 'shared');
  assert.equal((await request(s, 'post', '/joinFunRoom', { roomName })).statusCode, 200);
  const rJoined = await within(r.invoke('Request', { method: 'POST', url: '/joinFunRoom', data: { roomName } }), 'SignalR join');
  assert.equal(rJoined.statusCode, 200);

  const subscribers = await request(s, 'get', '/funRoomSubscribers', { roomName });
  assert.deepEqual([...subscribers.body].sort(), [s._raw.id, r.connectionId].sort());

  await within(r.invoke('Request', { method: 'POST', url: '/broadcastFunRoom', data: { roomName, eventName: 'shared', data: { n: 1, from: 'signalr' } } }), 'SignalR broadcast');
  assert.equal((await request(s, 'post', '/broadcastFunRoom', { roomName, eventName: 'shared', data: { n: 2, text: 'é 😀 "q"' } })).statusCode, 200);
  assert.equal((await request(s, 'post', '/blast', { eventName: 'shared', data: { n: 3 } })).statusCode, 200);
  // A marker after them on the same path: once it is in, nothing earlier is still on its way.
  assert.equal((await request(s, 'post', '/broadcastFunRoom', { roomName, eventName: 'shared', data: { n: 4 } })).statusCode, 200);
  await sEvents.until((p) => p.n === 4, 'the marker on the sails socket');
  await rEvents.until((p) => p.n === 4, 'the marker on the SignalR socket');

  assert.deepEqual(sEvents.seen.map((p) => p.n), [1, 2, 3, 4]);
  assert.deepEqual(rEvents.seen.filter((p) => p.n !== 3).map((p) => p.n), [1, 2, 4]);
  assert.equal(rEvents.seen.filter((p) => p.n === 3).length, 1);
  assert.deepEqual(sEvents.seen[1], { n: 2, text: 'é 😀 "q"' });
});

test('a socket.io socket is kicked by id from the other front end, and gets nothing of the room after', async () => {
  const roomName = room();
  const s = await sails(urlA);
  const events = collect((e, f) => s.on(e, f), 'kick');
  assert.equal((await request(s, 'post', '/joinFunRoom', { roomName })).statusCode, 200);

  const kick = await admin(urlB, '/kickFromFunRoom', { socketId: s._raw.id, roomName });
  assert.equal(kick.status, 200);
  assert.deepEqual(kick.body, { message: `Kicked ${s._raw.id} from ${roomName}!` });

  const subscribers = await fetch(`${urlB}/funRoomSubscribers?roomName=${roomName}`).then((x) => x.json());
  assert.deepEqual(subscribers, []);
  await admin(urlB, '/broadcastFunRoom', { roomName, eventName: 'kick', data: { n: 1 } });
  await admin(urlB, '/broadcastFunRoom', { roomName: s._raw.id, eventName: 'kick', data: { n: 2 } }); // the marker, to its own-id room
  await events.until((p) => p.n === 2, 'the marker');
  assert.deepEqual(events.seen, [{ n: 2 }]);

  const unknown = await admin(urlB, '/kickFromFunRoom', { socketId: 'no-such-socket', roomName });
  assert.equal(unknown.status, 404);
});

test('a disconnected socket.io socket leaves its rooms', async () => {
  const roomName = room();
  const s = await sails(urlA);
  const id = s._raw.id;
  assert.equal((await request(s, 'post', '/joinFunRoom', { roomName })).statusCode, 200);
  s.disconnect();
  const left = await eventually(() => fetch(`${urlB}/funRoomSubscribers?roomName=${roomName}`).then((x) => x.json()), (ids) => !ids.includes(id), 'the socket leaving');
  assert.deepEqual(left, []);
});

// ---------------------------------------------------------------- raw Engine.IO / Socket.IO

/** A raw WebSocket that queues what it receives, for packets no client would send. */
async function raw(url = urlA, path = '/socket.io/?EIO=4&transport=websocket') {
  const ws = new WebSocket(url.replace(/^http/, 'ws') + path);
  open.push(() => ws.terminate());
  const messages = [];
  const waiters = [];
  let closed;
  const whenClosed = new Promise((resolve) => ws.on('close', (code, reason) => { closed = { code, reason: reason.toString() }; resolve(closed); for (const w of waiters) w(); }));
  ws.on('message', (data, binary) => { messages.push(binary ? data : data.toString()); for (const w of [...waiters]) w(); });
  await within(new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); }), 'raw WebSocket open');
  const next = async (what, skipPings = true) => {
    while (true) {
      while (messages.length > 0) {
        const m = messages.shift();
        if (!(skipPings && m === '2')) return m;
      }
      if (closed) throw new Error(`${what}: closed (${closed.code} ${closed.reason})`);
      await within(new Promise((resolve) => waiters.push(resolve)), what);
      waiters.length = 0;
    }
  };
  return { ws, next, whenClosed: () => within(whenClosed, 'the close'), send: (m) => ws.send(m) };
}

async function connected() {
  const c = await raw();
  const handshake = JSON.parse((await c.next('the open packet')).slice(1));
  c.send('40');
  const connect = await c.next('the CONNECT answer');
  assert.match(connect, /^40\{"sid":"[A-Za-z0-9_-]+","pid":"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+){1,2}"\}$/);
  return { ...c, handshake, sid: JSON.parse(connect.slice(2)).sid };
}

test('the Engine.IO handshake names pingInterval, pingTimeout and maxPayload; a missed pong cuts the connection', async () => {
  const c = await connected();
  assert.deepEqual(Object.keys(c.handshake).sort(), ['maxPayload', 'pingInterval', 'pingTimeout', 'sid', 'upgrades']);
  assert.deepEqual(c.handshake.upgrades, []);
  // Answered pings keep it: three rounds.
  for (let i = 0; i < 3; i++) {
    assert.equal(await c.next('a ping', false), '2');
    c.send('3');
  }
  c.send('420["get",{"url":"/socketId"}]');
  assert.equal(await c.next('the answer'), `430[{"statusCode":200,"headers":{"content-type":"application/json; charset=utf-8"},"body":"${c.sid}"}]`);
  // Then silence: cut once pingInterval + pingTimeout have passed.
  const started = Date.now();
  const closed = await within(c.whenClosed(), 'the cut', c.handshake.pingInterval + c.handshake.pingTimeout + 5000);
  assert.ok(Date.now() - started >= c.handshake.pingTimeout - 100, `cut after ${Date.now() - started} ms`);
  assert.ok(closed.code > 0);
});

test('handshakes it does not serve are refused with Engine.IO\'s error body', async () => {
  const cases = [
    ['/socket.io/?EIO=3&transport=websocket', 5, /Engine\.IO 3/],
    ['/socket.io/?EIO=4&transport=polling', 0, /only websocket/],
    ['/socket.io/?transport=websocket', 5, /Unsupported protocol version/],
    ['/socket.io/?EIO=4&transport=websocket&sid=abc', 1, /Session ID unknown/],
    ['/socket.io/?EIO=4&transport=websocket&__sails_io_sdk_version=0.10.0', 4, /older than 0\.11/],
    ['/socket.io/?EIO=4&transport=websocket&resumable=2', 3, /\/sockets/],
    ['/socket.io/?EIO=4&transport=websocket', 3, /WebSocket transport only/],
  ];
  for (const [path, code, message] of cases) {
    const response = await fetch(urlA + path);
    assert.equal(response.status, 400, path);
    const body = await response.json();
    assert.equal(body.code, code, path);
    assert.match(body.message, message, path);
  }
  const foreign = await fetch(urlA + '/socket.io/?EIO=4&transport=websocket', { headers: { origin: 'https://evil.example' } });
  assert.equal(foreign.status, 403);
});

test('bad packets are answered: a 400 JWR, an error for another namespace, or a close that says why; the server serves on', async () => {
  const c = await connected();
  c.send('421["get",42]');
  const notEnvelope = JSON.parse((await c.next('a JWR for a bad envelope')).slice(3));
  assert.equal(notEnvelope[0].statusCode, 400);
  c.send('422["subscribe",{}]');
  const unknown = JSON.parse((await c.next('a JWR for an unknown event')).slice(3));
  assert.equal(unknown[0].statusCode, 400);
  assert.match(unknown[0].body, /not served/);
  c.send('40/admin,');
  assert.equal(await c.next('the namespace refusal'), '44/admin,{"message":"Invalid namespace"}');
  c.send('423["post",{"url":"/joinFunRoom","data":{"roomName":"x"},"method":"delete"}]');
  assert.equal(JSON.parse((await c.next('a join whose method is the event name')).slice(3))[0].statusCode, 200);

  const closes = [
    ['42["get"', 1007, /not JSON/],
    ['42{"a":1}', 1007, /JSON array/],
    ['9', 1002, /Engine\.IO 4/],
    ['4x', 1002, /Socket\.IO 5/],
    ['451-["get",{"_placeholder":true,"num":0}]', 1002, /Binary/],
    [Buffer.from([1, 2, 3]), 1003, /Binary/],
    ['44{"message":"no"}', 1002, /CONNECT_ERROR/],
    ['4212345678901234567["get",{}]', 1002, /ack id/],
    ['42' + JSON.stringify(['post', { url: '/blast', data: 'x'.repeat(40000) }]), 1009, /MaximumReceiveMessageSize/],
  ];
  for (const [packet, code, reason] of closes) {
    const d = await connected();
    d.send(packet);
    const closed = await d.whenClosed();
    assert.equal(closed.code, code, String(packet).slice(0, 40));
    assert.match(closed.reason, reason, String(packet).slice(0, 40));
  }

  const s = await sails();
  assert.equal((await request(s, 'get', '/socketId')).body, s._raw.id);
});

// ---------------------------------------------------------------- connection-state recovery (socket.io 4.6+)

/**
 * A TCP proxy on 127.0.0.1 in front of a front end, as a balancer would be: cut() drops every connection and refuses
 * new ones (the network is gone), resume(url) lets the client in again, to the same front end or another.
 */
async function proxy(url) {
  let target = new URL(url);
  let refusing = false;
  const pairs = new Set();
  const server = net.createServer((client) => {
    if (refusing) { client.destroy(); return; }
    const upstream = net.connect(Number(target.port), '127.0.0.1');
    const pair = [client, upstream];
    pairs.add(pair);
    const end = () => { client.destroy(); upstream.destroy(); pairs.delete(pair); };
    for (const side of pair) { side.on('error', end); side.on('close', end); }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const cutAll = () => { for (const [a, b] of pairs) { a.destroy(); b.destroy(); } pairs.clear(); };
  open.push(() => { cutAll(); server.close(); });
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    cut() { refusing = true; cutAll(); },
    resume(to = url) { target = new URL(to); refusing = false; },
  };
}

/** socket.io-client 4.8 as it is, reconnecting fast; it recovers by itself once the server handed it a pid. */
async function recoverable(url) {
  const socket = ioClient(url, { transports: ['websocket'], forceNew: true, reconnectionDelay: 50, reconnectionDelayMax: 200 });
  open.push(() => socket.disconnect());
  await within(new Promise((resolve, reject) => { socket.once('connect', resolve); socket.once('connect_error', reject); }), 'socket.io-client connect');
  return socket;
}

/** A virtual request as sails.io.js sends it, over a bare socket.io-client. */
function ask(socket, method, url, data) {
  return within(new Promise((resolve) => socket.emit(method, { method, url, data, headers: {} }, resolve)), `${method} ${url}`);
}

/** Cuts the connection and waits until the client has seen it go. */
async function cut(socket, p) {
  const gone = new Promise((resolve) => socket.once('disconnect', resolve));
  p.cut();
  await within(gone, 'the disconnect');
}

/** Lets the client in again (through `to`) and waits for its socket to connect. */
async function reconnect(socket, p, to) {
  const back = new Promise((resolve) => socket.once('connect', resolve));
  p.resume(to);
  await within(back, 'the reconnect');
}

async function broadcast(url, roomName, n, extra = {}) {
  const answer = await admin(url, '/broadcastFunRoom', { roomName, eventName: 'rec', data: { n, ...extra } });
  assert.equal(answer.status, 200);
}

async function subscribers(url, roomName) {
  return fetch(`${url}/funRoomSubscribers?roomName=${roomName}`).then((x) => x.json());
}

/** A socket.io socket in a fresh room through a proxy to `url`, having processed event 1 (so it holds an offset). */
async function recoveringSocket(url) {
  const p = await proxy(url);
  const s = await recoverable(p.url);
  assert.equal(s.recovered, false);
  const roomName = room();
  assert.equal((await ask(s, 'post', '/joinFunRoom', { roomName })).statusCode, 200);
  const offsets = [];
  const events = collect((e, f) => s.on(e, (payload, offset) => { offsets.push(offset); f(payload); }), 'rec');
  await broadcast(url, roomName, 1);
  await events.until((x) => x.n === 1, 'event 1');
  return { p, s, id: s.id, roomName, events, offsets };
}

test('socket.io-client recovers its socket after a cut: the same id, recovered, its rooms, the missed events once and in order', async () => {
  const { p, s, id, roomName, events, offsets } = await recoveringSocket(urlA);
  await cut(s, p);
  for (const n of [2, 3, 4]) await broadcast(urlB, roomName, n); // from the other front end, while it is away
  await reconnect(s, p);

  assert.equal(s.id, id);
  assert.equal(s.recovered, true);
  await broadcast(urlA, roomName, 5);
  await events.until((x) => x.n === 5, 'event 5');
  assert.deepEqual(events.seen.map((x) => x.n), [1, 2, 3, 4, 5]);
  assert.ok(offsets.every((o) => typeof o === 'string'), 'each event ends with its offset');
  assert.equal(new Set(offsets).size, offsets.length);
  assert.deepEqual([...(await ask(s, 'get', '/socketRooms')).body].sort(), [id, roomName].sort());
  assert.deepEqual(await subscribers(urlB, roomName), [id]);

  // A second cut recovers too: the pid stays the same.
  await cut(s, p);
  await broadcast(urlA, roomName, 6);
  await reconnect(s, p);
  assert.equal(s.recovered, true);
  await broadcast(urlA, roomName, 7);
  await events.until((x) => x.n === 7, 'event 7');
  assert.deepEqual(events.seen.map((x) => x.n), [1, 2, 3, 4, 5, 6, 7]);
});

test('a socket.io socket recovers through another front end: it moves there with its rooms and missed events', async () => {
  const { p, s, id, roomName, events } = await recoveringSocket(urlA);
  await cut(s, p);
  for (const n of [2, 3]) await broadcast(urlA, roomName, n);
  await reconnect(s, p, urlB);

  assert.equal(s.id, id);
  assert.equal(s.recovered, true);
  await broadcast(urlB, roomName, 4);
  await events.until((x) => x.n === 4, 'event 4');
  assert.deepEqual(events.seen.map((x) => x.n), [1, 2, 3, 4]);
  assert.deepEqual(await subscribers(urlA, roomName), [id]);
  assert.equal((await ask(s, 'get', '/socketId')).body, id);
});

test('sails.io.js 1.2.1 recovers too: its socket.io-client reconnects with the pid, the same socket, the missed events', async () => {
  const p = await proxy(urlA);
  const socket = io.sails.connect(p.url, { transports: ['websocket'], reconnection: true, multiplex: false });
  open.push(() => socket.disconnect());
  await within(new Promise((resolve, reject) => { socket._raw.once('connect', resolve); socket._raw.once('connect_error', reject); }), 'sails.io.js connect');
  const id = socket._raw.id;
  const roomName = room();
  assert.equal((await request(socket, 'post', '/joinFunRoom', { roomName })).statusCode, 200);
  const events = collect((e, f) => socket.on(e, f), 'rec');
  await broadcast(urlA, roomName, 1);
  await events.until((x) => x.n === 1, 'event 1');

  await cut(socket._raw, p);
  await broadcast(urlB, roomName, 2);
  await reconnect(socket._raw, p);
  assert.equal(socket._raw.recovered, true);
  assert.equal(socket._raw.id, id);
  assert.equal((await request(socket, 'get', '/socketId')).body, id);
  await broadcast(urlA, roomName, 3);
  await events.until((x) => x.n === 3, 'event 3');
  assert.deepEqual(events.seen.map((x) => x.n), [1, 2, 3]);
});

test('past the resume window, or with more missed than its buffer holds, a socket.io client gets a fresh socket (recovered false)', async () => {
  for (const how of ['window', 'buffer']) {
    const { p, s, id, roomName } = await recoveringSocket(urlA);
    await cut(s, p);
    if (how === 'window') {
      await broadcast(urlA, roomName, 2);
      // The window passes: the held socket ends and leaves its rooms (the server's own bound, plus a margin).
      await eventually(() => subscribers(urlB, roomName), (ids) => !ids.includes(id), 'the window ending the socket', resumeWindowMs + TIMEOUT);
    } else {
      await broadcast(urlA, roomName, 2, { filler: 'x'.repeat(resumeBufferMaxBytes) });
    }

    await reconnect(s, p);
    assert.equal(s.recovered, false, how);
    assert.notEqual(s.id, id, how);
    assert.deepEqual([...(await ask(s, 'get', '/socketRooms')).body], [s.id], how);
    assert.deepEqual(await eventually(() => subscribers(urlB, roomName), (ids) => ids.length === 0, 'the lost socket leaving'), [], `${how}: the lost socket left its rooms`);
  }
});
