// rooms.js in a real browser: headless Chromium (Debian's, at CHROMIUM or /usr/bin/chromium; nothing is
// downloaded) driven by playwright-core against a real front end (ROOMS_URL). Two pages load /rooms.js;
// one joins a room and posts, the other receives through io.socket.on, then leaves and stops receiving; a
// request made before the socket connects is answered; the demo page at / is used and photographed
// (SCREENSHOT, its path printed). Run by Tests/WebFrontend.Tests (BrowserTests); by hand:
//   ROOMS_URL=http://127.0.0.1:5000 node --test test/browser.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const url = process.env.ROOMS_URL;
assert.ok(url, 'ROOMS_URL must name the front end to test against');
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
assert.ok(existsSync(executablePath), `no Chromium at ${executablePath}: apt-get install -y chromium (or set CHROMIUM)`);
const TIMEOUT = 15000;
let browser;

before(async () => {
  browser = await chromium.launch({ executablePath, args: ['--no-sandbox'], timeout: TIMEOUT });
});

after(async () => {
  await browser?.close();
});

// A page of the front end's own origin (its health answer) with rooms.js loaded by a script tag, as a
// Sails page loads sails.io.js; `early` is a request made in the same task as the script ran, before
// io.socket has connected.
async function pageWithRoomsJs() {
  const page = await browser.newPage();
  page.setDefaultTimeout(TIMEOUT);
  await page.goto(new URL('/healthz', url).href);
  const early = await page.evaluate(() => new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = '/rooms.js';
    script.onerror = () => reject(new Error('rooms.js did not load'));
    script.onload = () => {
      window.received = [];
      window.early = { connected: io.socket.isConnected() };
      window.earlyAnswer = io.socket.get('/socketId');
      resolve(window.early);
    };
    document.head.appendChild(script);
  }));
  return { page, early };
}

test('two pages: one posts to a room, the other receives through io.socket.on until it leaves', async () => {
  const sender = await pageWithRoomsJs();
  const receiver = await pageWithRoomsJs();
  const room = `browser-${Date.now()}`;

  for (const { page, early } of [sender, receiver]) {
    assert.equal(early.connected, false);
    const answer = await page.evaluate(() => window.earlyAnswer);
    assert.equal(answer.statusCode, 200);
    assert.equal(answer.body, await page.evaluate(() => io.socket.id));
  }

  await receiver.page.evaluate(() => {
    io.socket.on('news', (data) => window.received.push(data));
    io.socket.on('marker', (data) => window.received.push({ marker: data }));
  });
  const joined = await receiver.page.evaluate((roomName) => new Promise((resolve) =>
    io.socket.post('/joinFunRoom', { roomName }, (body, jwr) => resolve({ body, statusCode: jwr.statusCode }))), room);
  assert.deepEqual(joined, { body: { message: `Joined a fun room called ${room}!` }, statusCode: 200 });

  const post = (roomName, eventName, data) => sender.page.evaluate(([r, e, d]) => io.socket.post('/broadcastFunRoom', { roomName: r, eventName: e, data: d }).then((jwr) => jwr.statusCode), [roomName, eventName, data]);
  assert.equal(await post(room, 'news', 'first'), 200);
  await receiver.page.waitForFunction(() => window.received.includes('first'));

  const left = await receiver.page.evaluate((roomName) => io.socket.post('/leaveFunRoom', { roomName }).then((jwr) => jwr.statusCode), room);
  assert.equal(left, 200);
  assert.equal(await post(room, 'news', 'second'), 200);
  // The marker goes to the receiver's own room, after the second post: once it is there, so would be "second".
  const receiverId = await receiver.page.evaluate(() => io.socket.id);
  assert.equal(await post(receiverId, 'marker', 'end'), 200);
  await receiver.page.waitForFunction(() => window.received.some((r) => r.marker === 'end'));
  assert.deepEqual(await receiver.page.evaluate(() => window.received), ['first', { marker: 'end' }]);

  await sender.page.close();
  await receiver.page.close();
});

test('the demo page at / works on rooms.js; screenshot', async () => {
  const pages = [await browser.newPage(), await browser.newPage()];
  const room = `demo-${Date.now()}`;
  for (const page of pages) {
    page.setDefaultTimeout(TIMEOUT);
    await page.goto(url);
    await page.waitForFunction(() => document.getElementById('socket-id').textContent.length > 15);
    await page.fill('#room', room);
    await page.click('#join');
    await page.waitForFunction(() => document.getElementById('log').textContent.includes('join → 200'));
  }

  await pages[0].fill('#text', 'hello from the first page');
  await pages[0].click('#broadcast');
  await pages[1].waitForFunction(() => document.getElementById('log').textContent.includes('event message: "hello from the first page"'));

  // Presence: both track themselves; each page shows both names.
  for (const [i, page] of pages.entries()) {
    await page.fill('#name', `page${i}`);
    await page.click('#track');
  }

  for (const page of pages) {
    await page.waitForFunction(() => /page0 \(1\).*page1 \(1\)|page1 \(1\).*page0 \(1\)/.test(document.getElementById('present').textContent));
  }
  const screenshot = process.env.SCREENSHOT || path.join(tmpdir(), 'orleans-rooms-demo.png');
  await pages[1].screenshot({ path: screenshot });
  console.log(`screenshot of the demo page: ${screenshot}`);
  assert.ok(existsSync(screenshot));
});
