// io.socket: the sails.io.js API of one socket. Virtual requests (docs/protocol.md) with callbacks (body, jwr) or
// a Promise of the jwr; requests made while not connected wait in a queue and go out in order once the
// connection is up; event handlers by name, kept across reconnects by the connection.
import { Connection, LIFECYCLE_EVENTS } from './connection.js';
import { Presence } from './presence.js';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** The JSON WebSocket Response of sails.io.js: what a virtual request was answered with. */
export class JWR {
  constructor(response) {
    this.statusCode = response.statusCode;
    this.headers = response.headers || {};
    this.body = response.body;
    if (response.error) {
      this.error = response.error;
    }
  }

  toPOJO() {
    return { statusCode: this.statusCode, headers: this.headers, body: this.body };
  }

  toString() {
    return `[ResponseFromSails] -- Status: ${this.statusCode} -- Headers: ${JSON.stringify(this.headers)} -- Body: ${JSON.stringify(this.body)}`;
  }
}

export class SailsSocket {
  constructor(options) {
    this._options = options;
    this._queue = [];
    this._lifecycle = new Map(LIFECYCLE_EVENTS.map((name) => [name, new Set()]));
    this._connection = new Connection(options, {
      connected: (id, again, info) => this._connected(id, again, info),
      reconnecting: (error) => {
        this._emit('disconnect', error);
        this._emit('reconnecting', error);
      },
      disconnected: (error) => this._emit('disconnect', error),
      failed: (error) => this._failQueue(error),
    });
    for (const method of METHODS) {
      this[method] = (url, data, cb) => {
        if (typeof data === 'function') {
          cb = data;
          data = undefined;
        }

        return this.request({ method, url, data }, cb);
      };
    }
  }

  /**
   * Who is in `room` (docs/presence.md): one helper per room, kept in step from the presence_state this socket is
   * sent when it tracks and the presence_diff events of the room; `sync()` fetches the state without tracking.
   */
  presence(room, options) {
    check(typeof room === 'string' && room.length > 0, 'io.socket.presence(room): `room` must be a non-empty string.');
    if (!this._presence) {
      this._presence = new Map();
      this.on('presence_state', (event) => this._presenceOf(event).forEach((p) => p._applyState(event.state || {}, event.version)));
      this.on('presence_diff', (event) => this._presenceOf(event).forEach((p) => p._onDiff(event)));
      this.on('reconnect', (id, info) => {
        if (!info || !info.resumed) {
          this._presence.forEach((p) => p._reset());
        }
      });
    }

    if (!this._presence.has(room)) {
      this._presence.set(room, new Presence(this, room, options));
    }

    return this._presence.get(room);
  }

  _presenceOf(event) {
    const presence = event && this._presence.get(event.room);
    return presence ? [presence] : [];
  }

  /** The socket id (its own room's name) while connected, else null; a resumed socket keeps its id. */
  get id() {
    return this._connection.id;
  }

  isConnected() {
    return this._connection.connected;
  }

  isConnecting() {
    return this._connection.connecting;
  }

  /** Connects (io.sails.autoConnect does it on load); does nothing when already connected or connecting. */
  reconnect() {
    this._connection.start();
    return this;
  }

  /**
   * Closes the connection: the socket leaves all its rooms at once (a resumable socket tells the server first, so
   * it is not held for a resume); requests made from now on wait for reconnect().
   */
  disconnect() {
    return this._connection.stop();
  }

  on(eventName, fn) {
    check(typeof eventName === 'string' && eventName.length > 0, 'io.socket.on(eventName, fn): `eventName` must be a non-empty string.');
    check(typeof fn === 'function', 'io.socket.on(eventName, fn): `fn` must be a function.');
    if (this._lifecycle.has(eventName)) {
      this._lifecycle.get(eventName).add(fn);
    } else {
      this._connection.on(eventName, fn);
    }

    return this;
  }

  /** Removes one handler, or every handler of the event when `fn` is left out. */
  off(eventName, fn) {
    if (this._lifecycle.has(eventName)) {
      if (fn) {
        this._lifecycle.get(eventName).delete(fn);
      } else {
        this._lifecycle.get(eventName).clear();
      }
    } else {
      this._connection.off(eventName, fn);
    }

    return this;
  }

  /**
   * Sends a virtual request. With a callback, calls it with (body, jwr) and returns nothing; without one,
   * returns a Promise of the jwr, for every status code (it rejects only when no answer can come).
   */
  request(options, cb) {
    check(options && typeof options === 'object', 'io.socket.request(options, cb): `options` must be an object.');
    check(typeof options.url === 'string' && options.url.length > 0, 'io.socket.request(options, cb): `options.url` is required.');
    check(cb === undefined || typeof cb === 'function', 'io.socket.request(options, cb): `cb` must be a function.');
    const envelope = { method: (options.method || 'get').toUpperCase(), url: options.url };
    if (options.data !== undefined) {
      envelope.data = options.data;
    }

    const headers = { ...(this._options.headers || {}), ...(options.headers || {}) };
    if (Object.keys(headers).length > 0) {
      envelope.headers = headers;
    }

    const answer = new Promise((resolve, reject) => {
      const item = { envelope, resolve, reject };
      if (this._connection.connected && this._queue.length === 0) {
        this._send(item);
      } else {
        this._queue.push(item);
      }
    });
    if (!cb) {
      return answer;
    }

    answer.then(
      (jwr) => cb(jwr.body, jwr),
      (error) => cb(undefined, new JWR({ statusCode: 0, headers: {}, body: undefined, error })));
    return undefined;
  }

  _send(item) {
    this._connection.invoke('Request', item.envelope).then((response) => item.resolve(new JWR(response)), item.reject);
  }

  _connected(id, again, info) {
    // In the order they were made: the hub runs one socket's requests one after the other.
    const queued = this._queue.splice(0);
    for (const item of queued) {
      this._send(item);
    }

    this._emit('connect', id);
    if (again) {
      // (id, info): info.resumed tells the same socket (rooms kept, missed events delivered) from a fresh one
      // (info.previousId's rooms are gone: join again).
      this._emit('reconnect', id, info);
    }
  }

  _failQueue(error) {
    for (const item of this._queue.splice(0)) {
      item.reject(error);
    }

    this._emit('disconnect', error);
  }

  _emit(eventName, ...args) {
    for (const fn of [...this._lifecycle.get(eventName)]) {
      try {
        fn(...args);
      } catch (error) {
        setTimeout(() => { throw error; });
      }
    }
  }
}

function check(condition, message) {
  if (!condition) {
    throw new Error(message);
  }
}
