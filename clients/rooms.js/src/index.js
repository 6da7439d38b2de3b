// rooms.js: the sails.io.js API over the official SignalR client, for Orleans.Rooms front ends.
// A script tag gives a global `io`; `io.socket` connects to the front end that served this script (or to
// `io.sails.url`) on the next tick, unless `io.sails.autoConnect` was set to false before then.
import { SailsSocket } from './socket.js';

const script = typeof document !== 'undefined' && document.currentScript ? document.currentScript : null;

function defaultUrl() {
  if (script && script.src) {
    return new URL(script.src).origin;
  }

  return typeof location !== 'undefined' && location.origin && location.origin !== 'null' ? location.origin : undefined;
}

function io(url, options) {
  return io.sails.connect(url, options);
}

io.sails = {
  /** The front end to connect to: by default the one that served rooms.js. */
  url: defaultUrl(),
  /** The path of the socket hub on it. */
  path: '/sockets',
  /** Whether io.socket connects by itself once this script has run. */
  autoConnect: true,
  /** Whether a dropped connection is connected again (resumed as the same socket within the server's window). */
  reconnection: true,
  /**
   * Whether the socket is resumable (README, "Resuming after a blip"): a blip shorter than the server's window
   * comes back as the same socket, with every event it missed; false speaks the plain protocol.
   */
  resumable: true,
  /** Pauses in ms before each reconnect attempt; the last one repeats (at most 500 ms apart while a resume may work). */
  reconnectDelays: [0, 100, 250, 500, 1000, 2000, 5000, 10000],
  /** 'websocket' for WebSockets only (no fallback), or undefined for SignalR's choice. */
  transports: undefined,
  /** Headers sent with every virtual request. */
  headers: {},
  /** A WebSocket constructor, where the platform has no global one. */
  WebSocket: undefined,
  /**
   * Called on each connect (the first, each reconnect and resume) for the access token the connection sends, as
   * SignalR's accessTokenFactory: query access_token on a browser's WebSocket, header Authorization: Bearer otherwise.
   */
  accessTokenFactory: undefined,
  /** Query parameters of each connect: a string ('a=1&b=2') or an object. */
  query: undefined,
  /** Headers of each connect: the negotiate's, and the WebSocket's outside a browser (a browser's cannot carry any). */
  initialConnectionHeaders: undefined,

  /** A new socket, connected at once: `io.sails.connect(url?, options?)`. */
  connect(url, options) {
    const socket = new SailsSocket(settings({ ...(options || {}), ...(url ? { url } : {}) }));
    return socket.reconnect();
  },
};

const SETTINGS = ['url', 'path', 'reconnection', 'resumable', 'reconnectDelays', 'transports', 'headers', 'WebSocket', 'accessTokenFactory', 'query', 'initialConnectionHeaders'];

function settings(overrides) {
  const s = {};
  for (const name of SETTINGS) {
    s[name] = name in overrides ? overrides[name] : io.sails[name];
  }

  return requireUrl(s);
}

function requireUrl(s) {
  if (!s.url) {
    throw new Error('rooms.js: no front end to connect to: set io.sails.url (e.g. "http://127.0.0.1:5000").');
  }

  return s;
}

// io.socket exists at once, so that requests and handlers can be set up before it connects (requests
// wait in its queue); it reads io.sails as it goes, so settings made right after the script tag apply.
const live = {};
for (const name of SETTINGS) {
  Object.defineProperty(live, name, { enumerable: true, get: () => (name === 'url' ? requireUrl(io.sails).url : io.sails[name]) });
}

io.socket = new SailsSocket(live);
setTimeout(() => {
  if (!io.sails.autoConnect) {
    return;
  }

  if (!io.sails.url) {
    console.warn('rooms.js: io.socket did not connect: set io.sails.url, then call io.socket.reconnect().');
    return;
  }

  io.socket.reconnect();
}, 0);

globalThis.io = io;
