// rooms.js authenticating its connection in node (README, "Authentication over sockets"): an access token factory
// asked on each connect (a resume too), query parameters and headers of the connect, and settings it refuses.
// Run by Tests/WebFrontend.Tests (SocketIdentityTests), against a front end whose default scheme takes the user from
// header x-user, an Authorization Bearer token or query access_token, and whose GET /scheme/me names the user;
// ROOMS_PROXY_URL is a proxy in front of it whose network `POST /test/sever?refuseMs=` cuts.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { loadServedClient, within } from './served-client.mjs';

const url = process.env.ROOMS_URL;
const proxyUrl = process.env.ROOMS_PROXY_URL;
assert.ok(url && proxyUrl, 'ROOMS_URL and ROOMS_PROXY_URL must name the front end and its proxy');
const TIMEOUT = 15000;

const io = await loadServedClient(url);
const sockets = [];
after(async () => {
  await Promise.all(sockets.map((s) => s.disconnect()));
});

function connect(target, options) {
  const socket = io.sails.connect(target, options);
  sockets.push(socket);
  return socket;
}

function once(socket, eventName) {
  return new Promise((resolve) => {
    const handler = (...args) => {
      socket.off(eventName, handler);
      resolve(args);
    };
    socket.on(eventName, handler);
  });
}

async function me(socket) {
  const jwr = await within(socket.get('/scheme/me'), 'GET /scheme/me', TIMEOUT);
  assert.equal(jwr.statusCode, 200, `GET /scheme/me: ${jwr.statusCode} ${JSON.stringify(jwr.body)}`);
  return jwr.body;
}

test('the access token factory is asked on each connect, and its token is the socket\'s user', async () => {
  let calls = 0;
  const socket = connect(proxyUrl, { accessTokenFactory: () => Promise.resolve(`hana-${++calls}`) });
  await within(once(socket, 'connect'), 'the connect', TIMEOUT);
  const first = await me(socket);
  const onConnect = calls;
  assert.ok(onConnect >= 1 && onConnect <= 2, `asked ${onConnect} times to connect`);
  assert.equal(first, `hana-${onConnect}`);

  const reconnected = once(socket, 'reconnect');
  const severed = await fetch(new URL('/test/sever?refuseMs=300', url), { method: 'POST' });
  assert.equal(severed.status, 200);
  const [, info] = await within(reconnected, 'the resume', TIMEOUT);
  assert.equal(info.resumed, true);
  const again = await me(socket);
  assert.ok(calls > onConnect, `asked ${onConnect} times to connect, ${calls} in all after the resume`);
  assert.equal(again, `hana-${calls}`);
  console.log(`# rooms.js: access token factory asked ${onConnect} time(s) to connect, ${calls} after one resume; the user was ${first}, then ${again}`);
});

test('query parameters and headers go with the connect', async () => {
  const byQuery = connect(url, { query: { access_token: 'ivan' } });
  const byString = connect(url, { query: 'access_token=kim&x=1' });
  const byHeader = connect(url, { initialConnectionHeaders: { 'x-user': 'judy' } });

  assert.equal(await me(byQuery), 'ivan');
  assert.equal(await me(byString), 'kim');
  assert.equal(await me(byHeader), 'judy');
});

test('settings it cannot use are refused, naming what was wrong', () => {
  assert.throws(() => io.sails.connect(url, { query: { resume: 'x' } }), /io\.sails\.query may not name 'resume'/);
  assert.throws(() => io.sails.connect(url, { query: 'seq=1' }), /io\.sails\.query may not name 'seq'/);
  assert.throws(() => io.sails.connect(url, { query: 42 }), /io\.sails\.query must be a string/);
  assert.throws(() => io.sails.connect(url, { accessTokenFactory: 'a token' }), /io\.sails\.accessTokenFactory must be a function/);
  assert.throws(() => io.sails.connect(url, { initialConnectionHeaders: { 'x-user': 1 } }), /io\.sails\.initialConnectionHeaders must be an object/);
});
