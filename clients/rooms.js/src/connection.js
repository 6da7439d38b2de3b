// The one place that owns the SignalR connection of a socket: how it is built, started, retried and
// connected again, and which event handlers sit on it. Everything above (requests, the request queue,
// io.socket.on/off) only asks it to invoke or to listen, so what happens on a reconnect is decided here.
//
// A resumable socket (the default) follows the resume contract, version 2 (README, "Resuming after a blip"): it
// connects with ?resumable=2, keeps socketId / resumeToken / windowMs from `rooms.attached`, hands each
// `rooms.event(seq, name, data, id)` to the handlers of `name` once (a seq already processed is skipped, and so
// is an event whose broadcast id it processed lately: a resume after the socket's front end died may bring it
// again), acknowledges with Ack(seq), and when the connection drops (or `rooms.move` says the server stops)
// connects again with ?resume=<token>&seq=<last>&v=2 until it works: the same socket within the server's window,
// on whichever front end of the cluster it reaches; a fresh one past it. SignalR's own automatic reconnect is
// not used for it: it makes one transport attempt and cannot resume a socket.
import { HubConnectionBuilder, HttpTransportType, LogLevel } from '@microsoft/signalr';
import { FetchHttpClient } from './fetch-http-client.js';

// Lifecycle names are emitted by the client itself, as sails.io.js does with socket.io's; they are not
// subscribed to on the hub.
export const LIFECYCLE_EVENTS = ['connect', 'disconnect', 'reconnecting', 'reconnect'];

const DEFAULT_DELAYS = [0, 100, 250, 500, 1000, 2000, 5000, 10000];
const FAST_RETRY_CAP_MS = 500; // while the server may still hold the socket
const ACK_EVERY = 64;
const ACK_INTERVAL_MS = 1000;
const ATTACH_TIMEOUT_MS = 10000;
const DISCONNECT_TIMEOUT_MS = 2000;
const PROCESSED_IDS_MARGIN_MS = 30000; // ids of processed events are kept for the server's window and this
const OWN_QUERY_NAMES = ['resumable', 'resume', 'seq', 'v', 'id', 'negotiateVersion']; // the resume contract's, SignalR's

export class Connection {
  /**
   * @param {object} options url (the front end's origin), path (of the hub), reconnection, resumable,
   *   reconnectDelays, transports ('websocket' only, or all), WebSocket (a constructor, where there is no global one),
   *   accessTokenFactory, query and initialConnectionHeaders (of each connect: see _connectOptions).
   * @param {object} listener connected(id, again, info), disconnected(error), reconnecting(error), failed(error).
   */
  constructor(options, listener) {
    this._options = options;
    this._listener = listener;
    this._handlers = new Map(); // event name -> Set of functions, kept across connections
    this._hub = null;
    this._ready = false; // the current hub is started (and attached, when resumable)
    this._stopped = true;
    this._timer = null;
    this._ackTimer = null;
    this._attempt = 0;
    this._everConnected = false;
    this._droppedAt = 0;
    this._socketId = null;
    this._token = null;
    this._windowMs = 0;
    this._lastSeq = 0;
    this._lastAcked = 0;
  }

  get connected() {
    return this._hub !== null && this._ready && this._hub.state === 'Connected';
  }

  get connecting() {
    return !this._stopped && !this.connected;
  }

  /** The socket id: kept across a resume (the SignalR connection id is not). */
  get id() {
    return this.connected ? this._socketId : null;
  }

  start() {
    if (!this._stopped) {
      return;
    }

    this._connectOptions(); // bad settings throw here, to the caller of connect() or reconnect()
    this._stopped = false;
    this._attempt = 0;
    this._token = null;
    this._socketId = null;
    this._lastSeq = 0;
    this._lastAcked = 0;
    if (this._resumable && !this._ackTimer) {
      this._ackTimer = setInterval(() => this._ack(true), ACK_INTERVAL_MS);
      this._ackTimer.unref?.();
    }

    this._tryStart();
  }

  /** Leaves for good: a resumable socket tells the server (hub method Disconnect) so it is not held for a resume. */
  stop() {
    this._stopped = true;
    clearTimeout(this._timer);
    this._timer = null;
    clearInterval(this._ackTimer);
    this._ackTimer = null;
    const hub = this._hub;
    if (!hub) {
      return Promise.resolve();
    }

    const telling = this._resumable && hub.state === 'Connected'
      ? Promise.race([hub.invoke('Disconnect').catch(() => {}), new Promise((resolve) => setTimeout(resolve, DISCONNECT_TIMEOUT_MS))])
      : Promise.resolve();
    return telling.then(() => hub.stop());
  }

  invoke(method, argument) {
    if (!this.connected) {
      return Promise.reject(new Error('Not connected.'));
    }

    return this._hub.invoke(method, argument);
  }

  on(eventName, fn) {
    let set = this._handlers.get(eventName);
    if (!set) {
      set = new Set();
      this._handlers.set(eventName, set);
      if (this._hub && !this._resumable) {
        this._hub.on(eventName, (payload) => this._dispatch(eventName, payload));
      }
    }

    set.add(fn);
  }

  off(eventName, fn) {
    const set = this._handlers.get(eventName);
    if (!set) {
      return;
    }

    if (fn) {
      set.delete(fn);
    } else {
      set.clear();
    }

    if (set.size === 0) {
      this._handlers.delete(eventName);
      if (this._hub && !this._resumable) {
        this._hub.off(eventName);
      }
    }
  }

  get _resumable() {
    return this._options.resumable !== false;
  }

  _dispatch(eventName, payload) {
    const set = this._handlers.get(eventName);
    for (const fn of set ? [...set] : []) {
      try {
        fn(payload);
      } catch (error) {
        setTimeout(() => { throw error; }); // a failing handler neither stops the others nor the connection
      }
    }
  }

  _event(seq, eventName, payload, id) {
    if (seq <= this._lastSeq) {
      return; // processed already: replayed after a resume
    }

    this._lastSeq = seq;
    if (!this._remember(id)) {
      this._dispatch(eventName, payload);
    }

    if (this._lastSeq - this._lastAcked >= ACK_EVERY) {
      this._ack(false);
    }
  }

  // Notes a processed event's broadcast id; true when it was processed already. Ids older than the server's
  // window and a margin are forgotten (a Map keeps insertion order: the oldest come first).
  _remember(id) {
    if (id === undefined || id === null) {
      return false;
    }

    if (!this._processed) {
      this._processed = new Map();
    }

    if (this._processed.has(id)) {
      return true;
    }

    const now = Date.now();
    const keep = (this._windowMs || 0) + PROCESSED_IDS_MARGIN_MS;
    for (const [old, at] of this._processed) {
      if (now - at <= keep) {
        break;
      }

      this._processed.delete(old);
    }

    this._processed.set(id, now);
    return false;
  }

  _ack(force) {
    if (!this.connected || this._lastSeq <= this._lastAcked || (!force && this._lastSeq - this._lastAcked < ACK_EVERY)) {
      return;
    }

    this._lastAcked = this._lastSeq;
    this._hub.send('Ack', this._lastSeq).catch(() => {}); // lost with the connection: the resume's seq acknowledges
  }

  _query() {
    if (!this._resumable) {
      return null;
    }

    return this._token === null ? 'resumable=2' : `resume=${encodeURIComponent(this._token)}&seq=${this._lastSeq}&v=2`;
  }

  // What each connect (the first, each reconnect and resume) carries besides the client's own query, checked:
  // - accessTokenFactory: called for each connect, its token sent as SignalR sends it (query access_token on a
  //   browser's WebSocket, header Authorization: Bearer otherwise); the server fixes the socket's user from it;
  // - query: a string ('a=1&b=2') or an object of parameters, which may not name the client's own;
  // - initialConnectionHeaders (sails.io.js' name): headers of the negotiate and, outside a browser, of the WebSocket
  //   too; a browser's WebSocket cannot carry headers (use query or accessTokenFactory there).
  _connectOptions() {
    const o = this._options;
    check(o.accessTokenFactory === undefined || o.accessTokenFactory === null || typeof o.accessTokenFactory === 'function',
      'io.sails.accessTokenFactory must be a function returning a token (or a Promise of one).');
    const query = typeof o.query === 'string' ? new URLSearchParams(o.query) : new URLSearchParams();
    if (o.query && typeof o.query === 'object') {
      for (const [name, value] of Object.entries(o.query)) {
        query.append(name, String(value));
      }
    } else {
      check(o.query === undefined || o.query === null || typeof o.query === 'string', 'io.sails.query must be a string (\'a=1&b=2\') or an object of parameters.');
    }

    for (const name of query.keys()) {
      check(name.length > 0 && !OWN_QUERY_NAMES.includes(name), `io.sails.query may not name '${name}': the client sets it itself (docs/protocol.md, "Resuming"; SignalR's own).`);
    }

    const headers = o.initialConnectionHeaders || {};
    check(typeof headers === 'object' && Object.entries(headers).every(([name, value]) => name.length > 0 && typeof value === 'string'),
      'io.sails.initialConnectionHeaders must be an object of header names and string values.');
    return { accessTokenFactory: o.accessTokenFactory || undefined, query: query.toString(), headers };
  }

  _build(query) {
    const o = this._options;
    const connect = this._connectOptions();
    const WebSocketType = o.WebSocket || (typeof WebSocket === 'function' ? WebSocket : undefined);
    const http = {
      transport: o.transports === 'websocket' ? HttpTransportType.WebSockets : undefined,
      accessTokenFactory: connect.accessTokenFactory,
      headers: connect.headers,
      // Where there is no browser (node, a worker without one), plain fetch stands in for the client's
      // node-only dependencies, and the WebSocket constructor is the global one or the one given.
      ...(typeof document === 'undefined' ? { httpClient: new FetchHttpClient() } : {}),
      ...(WebSocketType ? { WebSocket: headersInInit(WebSocketType) } : {}),
    };
    const url = new URL(o.path, o.url);
    url.search = [query, connect.query].filter((q) => q).join('&');

    const builder = new HubConnectionBuilder()
      .withUrl(url.href, http)
      .configureLogging(LogLevel.None);
    const hub = builder.build();
    if (!this._resumable) {
      for (const eventName of this._handlers.keys()) {
        hub.on(eventName, (payload) => this._dispatch(eventName, payload));
      }
    }

    return hub;
  }

  _tryStart() {
    const hub = this._build(this._query());
    this._hub = hub;
    this._ready = false;
    let started = false;
    let attached = null;
    let timer = null;
    const ready = () => {
      if (!started || (this._resumable && !attached) || hub !== this._hub || this._stopped) {
        return;
      }

      clearTimeout(timer);
      this._ready = true;
      const previousId = this._socketId;
      const again = this._everConnected;
      const offlineMs = again ? Date.now() - this._droppedAt : 0;
      const attempts = this._attempt;
      this._attempt = 0;
      this._everConnected = true;
      this._socketId = attached ? attached.socketId : hub.connectionId;
      const resumed = attached ? attached.resumed : false;
      this._listener.connected(this._socketId, again, { id: this._socketId, resumed, previousId: again ? previousId : null, attempts, offlineMs });
    };
    let failed = false;
    const fail = (error) => {
      if (hub !== this._hub || this._stopped || failed) {
        return;
      }

      failed = true;
      clearTimeout(timer);
      hub.stop().catch(() => {});
      if (!this._options.reconnection) {
        this._stopped = true;
        this._listener.failed(error);
        return;
      }

      this._retryLater();
    };
    if (this._resumable) {
      hub.on('rooms.attached', (a) => {
        attached = a;
        this._token = a.resumeToken;
        this._windowMs = a.windowMs || 0;
        if (!a.resumed) {
          this._lastSeq = 0; // a fresh socket: its events are numbered from 1 again
          this._lastAcked = 0;
          this._processed = new Map();
        }

        ready();
      });
      hub.on('rooms.event', (seq, eventName, payload, id) => {
        if (hub === this._hub) {
          this._event(seq, eventName, payload, id);
        }
      });
      hub.on('rooms.move', () => {}); // the server stops and closes this connection next: the reconnect resumes elsewhere
    }

    hub.onclose((error) => {
      if (hub !== this._hub) {
        return;
      }

      if (this._stopped) {
        if (this._ready) {
          this._ready = false;
          this._listener.disconnected(error); // stop(): the socket is gone
        }

        return;
      }

      if (!this._ready) {
        fail(error || new Error('The connection closed before it was attached.'));
        return;
      }

      this._ready = false;
      this._droppedAt = Date.now();
      if (!this._options.reconnection) {
        this._stopped = true;
        this._listener.disconnected(error);
        return;
      }

      this._listener.reconnecting(error);
      this._attempt = 0;
      this._retryLater();
    });
    hub.start().then(
      () => {
        started = true;
        if (this._resumable && !attached) {
          timer = setTimeout(() => fail(new Error('No rooms.attached.')), ATTACH_TIMEOUT_MS);
        }

        ready();
      },
      fail);
  }

  _retryLater() {
    const delays = this._options.reconnectDelays && this._options.reconnectDelays.length ? this._options.reconnectDelays : DEFAULT_DELAYS;
    let delay = delays[Math.min(this._attempt++, delays.length - 1)];
    if (this._resumable && this._token !== null && Date.now() - this._droppedAt < this._windowMs + 5000) {
      delay = Math.min(delay, FAST_RETRY_CAP_MS);
    }

    this._timer = setTimeout(() => {
      this._timer = null;
      if (!this._stopped) {
        this._tryStart();
      }
    }, delay);
  }
}

// Outside a browser SignalR hands a WebSocket its headers (the token's Authorization among them) in a third argument,
// as the `ws` package takes them; node's own WebSocket (node 22+, undici's) takes them in its second, with the
// protocols, and would drop them.
function headersInInit(WebSocketType) {
  if (typeof document !== 'undefined' || WebSocketType !== globalThis.WebSocket) {
    return WebSocketType;
  }

  return class extends WebSocketType {
    constructor(url, protocols, options) {
      super(url, options && options.headers ? { protocols, headers: options.headers } : protocols);
    }
  };
}

function check(condition, message) {
  if (!condition) {
    throw new Error(`rooms.js: ${message}`);
  }
}
