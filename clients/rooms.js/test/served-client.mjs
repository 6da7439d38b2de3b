// What the tests against a running cluster share: rooms.js as a front end serves it (GET /rooms.js), loaded into
// node with WebSockets only, and a bound for each wait.
import assert from 'node:assert/strict';
import vm from 'node:vm';
import { createRequire } from 'node:module';

/** Loads the script `url` serves and returns its `io`, set to connect only when asked, to `url`, over WebSockets. */
export async function loadServedClient(url) {
  // Node 22+ has a WebSocket of its own; node 20 and 18 get the `ws` package the lock file pins.
  const WebSocketType = globalThis.WebSocket ?? createRequire(import.meta.url)('ws');
  const script = await fetch(new URL('/rooms.js', url));
  assert.equal(script.status, 200);
  vm.runInThisContext(await script.text(), { filename: 'rooms.js' });
  const io = globalThis.io;
  io.sails.autoConnect = false;
  io.sails.url = url;
  io.sails.WebSocket = WebSocketType;
  io.sails.transports = 'websocket';
  return io;
}

/** `promise`, or an error naming `what` once `timeoutMs` passed. */
export function within(promise, what, timeoutMs) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: nothing within ${timeoutMs} ms`)), timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
}
