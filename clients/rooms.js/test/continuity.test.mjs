// rooms.js in node through the cluster shape's balancer while a front end goes away: resumable sockets (the
// default) in four rooms hear a numbered broadcast every 50 ms, sent through a front end that stays; then the
// front end ROOMS_VICTIM_PID is killed (SIGKILL) or stopped (SIGTERM, ROOMS_SIGNAL). Every socket must come back
// as itself (same id: `reconnect` with resumed true for those that dropped, never a fresh socket), in its room,
// with every broadcast answered 200 once each and in order. Run by Tests/Cluster.Tests (FrontEndContinuityTests):
//   ROOMS_URL=<lb> ROOMS_SENDER_URL=<a front end that stays> ROOMS_VICTIM_URL=<the other> ROOMS_VICTIM_PID=<its pid> \
//     node --test test/continuity.test.mjs
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { loadServedClient, within as bounded } from './served-client.mjs';

const url = process.env.ROOMS_URL;
const senderUrl = process.env.ROOMS_SENDER_URL;
const victim = Number(process.env.ROOMS_VICTIM_PID);
const victimUrl = process.env.ROOMS_VICTIM_URL;
const signal = process.env.ROOMS_SIGNAL || 'SIGKILL';
const count = Number(process.env.ROOMS_SOCKETS || 10);
assert.ok(url && senderUrl && victim && victimUrl, 'ROOMS_URL, ROOMS_SENDER_URL, ROOMS_VICTIM_URL and ROOMS_VICTIM_PID are required');
const TIMEOUT = 30000;
const ROOMS = ['j0', 'j1', 'j2', 'j3'];

const io = await loadServedClient(url);
const sockets = [];

after(async () => {
  await Promise.all(sockets.map((s) => s.disconnect()));
});

test(`${count} resumable rooms.js sockets keep their ids, rooms and every event when a front end goes (${signal})`, async () => {
  const watched = [];
  for (let i = 0; i < count; i++) {
    const socket = io.sails.connect(url, {});
    sockets.push(socket);
    const w = { socket, room: ROOMS[i % ROOMS.length], ticks: [], resumed: 0, fresh: 0 };
    socket.on('tick', (data) => w.ticks.push(data.i));
    socket.on('reconnect', (id, info) => (info.resumed ? w.resumed++ : w.fresh++));
    watched.push(w);
  }

  for (const w of watched) {
    const jwr = await within(w.socket.post('/joinFunRoom', { roomName: w.room }), 'a join');
    assert.equal(jwr.statusCode, 200);
    w.id = w.socket.id;
  }

  const acknowledged = new Set();
  let stop = false;
  let failed = 0;
  const load = (async () => {
    for (let i = 0; !stop; i++) {
      try {
        const response = await fetch(new URL('/broadcastFunRoom', senderUrl), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ roomName: ROOMS, eventName: 'tick', data: { i } }),
        });
        if (response.ok) {
          acknowledged.add(i);
        } else {
          failed++;
        }
      } catch {
        failed++;
      }

      await new Promise((r) => setTimeout(r, 50));
    }
  })();

  await until(() => watched.every((w) => w.ticks.length >= 3), 'every socket hearing the load');
  const metrics = await (await fetch(new URL('/metrics', victimUrl))).text();
  const mustMove = Number(/^rooms_sockets_connected(?:\{[^}]*\})? (\d+)/m.exec(metrics)[1]);
  assert.ok(mustMove > 0 && mustMove < count, `the victim holds ${mustMove} of ${count} sockets`);
  const began = Date.now();
  process.kill(victim, signal);
  await until(() => watched.filter((w) => w.resumed > 0).length >= mustMove && watched.every((w) => w.socket.isConnected()), 'the sockets of the victim resuming');
  const resumedAfter = Date.now() - began;
  const answeredAtResume = acknowledged.size;
  await until(() => acknowledged.size >= answeredAtResume + 20, '20 more broadcasts answered after the resumes');
  stop = true;
  await load;
  const marker = await fetch(new URL('/broadcastFunRoom', senderUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ roomName: ROOMS, eventName: 'tick', data: { i: 1e9 } }),
  });
  assert.equal(marker.status, 200);
  await until(() => watched.every((w) => w.ticks.includes(1e9)), 'every socket hearing the marker');

  for (const w of watched) {
    assert.equal(w.fresh, 0, `socket ${w.id} was replaced by a fresh one`);
    assert.equal(w.socket.id, w.id, 'same id');
    const sorted = [...w.ticks].sort((a, b) => a - b);
    assert.deepEqual(w.ticks, sorted, `socket ${w.id}: out of order`);
    assert.equal(new Set(w.ticks).size, w.ticks.length, `socket ${w.id}: an event came twice`);
    const missing = [...acknowledged].filter((i) => i > w.ticks[0] && !w.ticks.includes(i));
    assert.deepEqual(missing, [], `socket ${w.id} missed acknowledged events`);
    const rooms = await within(w.socket.get('/socketRooms'), 'socketRooms');
    assert.deepEqual([...rooms.body].sort(), [w.id, w.room].sort());
  }

  const moved = watched.filter((w) => w.resumed > 0).length;
  assert.equal(moved, mustMove, 'the victim\'s sockets, and only those, moved');
  console.log(`# rooms.js: ${moved} of ${count} sockets resumed on another front end ${resumedAfter} ms after ${signal}; all ${count} kept their ids and rooms; ${acknowledged.size} acknowledged broadcasts once each, in order (${failed} failed)`);
});

async function until(condition, what) {
  const deadline = Date.now() + TIMEOUT;
  for (;;) {
    if (condition()) {
      return;
    }

    if (Date.now() > deadline) {
      throw new Error(`${what}: not within ${TIMEOUT} ms`);
    }

    await new Promise((r) => setTimeout(r, 50));
  }
}

function within(promise, what) {
  return bounded(promise, what, TIMEOUT);
}
