// rooms.js in node through the cluster shape's load balancer (scripts/cluster up: HAProxy in front of two front
// ends, round robin). Each socket negotiates and then connects; only the balancer's pinning on the connection token
// sends the connect to the front end that negotiated. Run by Tests/Cluster.Tests (LoadBalancerTests); by hand:
//   ROOMS_URL=<the lb url scripts/cluster up printed> node --test test/balancer.test.mjs
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { loadServedClient, within as bounded } from './served-client.mjs';

const url = process.env.ROOMS_URL;
const count = Number(process.env.ROOMS_SOCKETS || 20);
assert.ok(url, 'ROOMS_URL must name the load balancer to test against');
const TIMEOUT = 20000;

const io = await loadServedClient(url);
const sockets = [];

after(async () => {
  await Promise.all(sockets.map((s) => s.disconnect()));
});

test(`${count} sockets, plain and resumable, connect through the balancer, join a room and hear a broadcast`, async () => {
  const roomName = `lb-js-${Math.random().toString(36).slice(2, 10)}`;
  const heard = [];
  for (let i = 0; i < count; i++) {
    const socket = io.sails.connect(url, { resumable: i % 2 === 1, reconnection: false });
    sockets.push(socket);
    heard.push(new Promise((resolve) => socket.on('news', (data) => data === 'through-the-lb' && resolve())));
  }

  const joined = await within(Promise.all(sockets.map((s) => s.post('/joinFunRoom', { roomName }))), 'the joins');
  assert.deepEqual(joined.map((jwr) => jwr.statusCode), sockets.map(() => 200));
  assert.equal(new Set(sockets.map((s) => s.id)).size, count);
  const sent = await within(sockets[0].post('/broadcastFunRoom', { roomName, eventName: 'news', data: 'through-the-lb' }), 'the broadcast');
  assert.equal(sent.statusCode, 200);
  await within(Promise.all(heard), 'the broadcast reaching every socket');
  console.log(`# rooms.js: ${count} of ${count} sockets connected through the balancer, joined and heard the broadcast`);
});

function within(promise, what) {
  return bounded(promise, what, TIMEOUT);
}
