// The one place that owns the SignalR connection of a socket: how it is built, started, retried and
// connected again, and which event handlers sit on it. Everything above (requests, the request queue,
// io.socket.on/off) only asks it to invoke or to listen, so what happens on a reconnect is decided here.
import { HubConnectionBuilder, HttpTransportType, LogLevel } from '@microsoft/signalr';
import { FetchHttpClient } from './fetch-http-client.js';

// Lifecycle names are emitted by the client itself, as sails.io.js does with socket.io's; they are not
// subscribed to on the hub.
export const LIFECYCLE_EVENTS = ['connect', 'disconnect', 'reconnecting', 'reconnect'];

const DEFAULT_DELAYS = [0, 1000, 2000, 5000, 10000];

export class Connection {
  /**
   * @param {object} options url (the front end's origin), path (of the hub), reconnection, reconnectDelays,
   *   transports ('websocket' only, or all), WebSocket (a constructor, where there is no global one).
   * @param {object} listener connected(id, again), disconnected(error), reconnecting(error), failed(error).
   */
  constructor(options, listener) {
    this._options = options;
    this._listener = listener;
    this._handlers = new Map(); // event name -> Set of functions, kept across connections
    this._hub = null;
    this._stopped = true;
    this._timer = null;
    this._attempt = 0;
    this._everConnected = false;
  }

  get connected() {
    return this._hub !== null && this._hub.state === 'Connected';
  }

  get connecting() {
    return !this._stopped && !this.connected;
  }

  get id() {
    return this.connected ? this._hub.connectionId : null;
  }

  start() {
    if (!this._stopped) {
      return;
    }

    this._stopped = false;
    this._attempt = 0;
    this._hub = this._build();
    this._tryStart();
  }

  stop() {
    this._stopped = true;
    clearTimeout(this._timer);
    this._timer = null;
    const hub = this._hub;
    return hub ? hub.stop() : Promise.resolve();
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
      if (this._hub) {
        this._hub.on(eventName, this._dispatcher(eventName));
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
      if (this._hub) {
        this._hub.off(eventName);
      }
    }
  }

  _dispatcher(eventName) {
    return (payload) => {
      const set = this._handlers.get(eventName);
      for (const fn of set ? [...set] : []) {
        try {
          fn(payload);
        } catch (error) {
          setTimeout(() => { throw error; }); // a failing handler neither stops the others nor the connection
        }
      }
    };
  }

  _build() {
    const o = this._options;
    const http = {
      transport: o.transports === 'websocket' ? HttpTransportType.WebSockets : undefined,
      // Where there is no browser (node, a worker without one), plain fetch stands in for the client's
      // node-only dependencies, and the WebSocket constructor is the global one or the one given.
      ...(typeof document === 'undefined' ? { httpClient: new FetchHttpClient() } : {}),
      ...(o.WebSocket ? { WebSocket: o.WebSocket } : typeof WebSocket === 'function' ? { WebSocket } : {}),
    };
    const builder = new HubConnectionBuilder()
      .withUrl(new URL(o.path, o.url).href, http)
      .configureLogging(LogLevel.None);
    if (o.reconnection) {
      const delays = o.reconnectDelays && o.reconnectDelays.length ? o.reconnectDelays : DEFAULT_DELAYS;
      builder.withAutomaticReconnect({ nextRetryDelayInMilliseconds: (context) => delays[Math.min(context.previousRetryCount, delays.length - 1)] });
    }

    const hub = builder.build();
    for (const eventName of this._handlers.keys()) {
      hub.on(eventName, this._dispatcher(eventName));
    }

    hub.onreconnecting((error) => this._listener.reconnecting(error));
    hub.onreconnected(() => this._listener.connected(hub.connectionId, true));
    hub.onclose((error) => {
      if (hub !== this._hub) {
        return;
      }

      this._listener.disconnected(error);
      // SignalR gave up (or the server closed the connection and said not to reconnect): a socket that
      // should stay connected gets a new connection, with the same handlers.
      if (!this._stopped && this._options.reconnection) {
        this._hub = this._build();
        this._retryLater();
      }
    });
    return hub;
  }

  _tryStart() {
    const hub = this._hub;
    hub.start().then(
      () => {
        if (hub !== this._hub || this._stopped) {
          return;
        }

        this._attempt = 0;
        const again = this._everConnected;
        this._everConnected = true;
        this._listener.connected(hub.connectionId, again);
      },
      (error) => {
        if (hub !== this._hub || this._stopped) {
          return;
        }

        if (!this._options.reconnection) {
          this._stopped = true;
          this._listener.failed(error);
          return;
        }

        this._retryLater();
      });
  }

  _retryLater() {
    const delays = this._options.reconnectDelays && this._options.reconnectDelays.length ? this._options.reconnectDelays : DEFAULT_DELAYS;
    const delay = delays[Math.min(this._attempt++, delays.length - 1)];
    this._timer = setTimeout(() => {
      this._timer = null;
      if (!this._stopped) {
        this._tryStart();
      }
    }, delay);
  }
}
