// io.socket.presence(room): who is in a room, kept in step from the server's presence_state and presence_diff
// events (docs/presence.md), with Phoenix.Presence's callbacks: onJoin(key, current, joined), onLeave(key,
// current, left), onSync(). A state is { key: { metas: [ { ref, ...meta } ] } }; `ref` is the socket's id.
//
// Versions: a state and every diff carry "epoch.seq". Diffs with the state's epoch and a seq up to its seq are in
// it already and skipped; those that arrive before any state wait for it. The first diff after a state may repeat
// what the state has: a join of a meta already there, a leave of a meta no longer there, both skipped, so each
// change reaches the callbacks once.

/** How many diffs wait for a room's first state before the oldest are dropped (sync() fetches a state anew). */
const MAX_PENDING_DIFFS = 1000;

export class Presence {
  constructor(socket, room, options) {
    this._socket = socket;
    this.room = room;
    this._listUrl = (options && options.listUrl) || '/presence/list';
    this._state = {};
    this._version = null;
    this._pending = [];
    this._callbacks = { join: () => {}, leave: () => {}, sync: () => {} };
  }

  onJoin(fn) {
    this._callbacks.join = checkFn(fn, 'onJoin');
    return this;
  }

  onLeave(fn) {
    this._callbacks.leave = checkFn(fn, 'onLeave');
    return this;
  }

  onSync(fn) {
    this._callbacks.sync = checkFn(fn, 'onSync');
    return this;
  }

  /** Whether a state has arrived (a track's presence_state, or sync()). */
  get synced() {
    return this._version !== null;
  }

  /**
   * Each key's presence, as `by(key, { metas })` (by default `{ key, metas }`), in the order keys first came.
   */
  list(by) {
    const choose = by || ((key, presence) => ({ key, metas: presence.metas }));
    return Object.keys(this._state).map((key) => choose(key, this._state[key]));
  }

  /** Fetches the room's state over the socket (GET listUrl?roomName=) and applies it; resolves with list(). */
  async sync() {
    const jwr = await this._socket.request({ method: 'get', url: this._listUrl, data: { roomName: this.room } });
    if (jwr.statusCode !== 200) {
      throw new Error(`presence sync of room '${this.room}' failed: ${jwr.statusCode} ${JSON.stringify(jwr.body)}`);
    }

    const version = headerOf(jwr.headers, 'rooms-presence-version');
    this._applyState(jwr.body || {}, version);
    return this.list();
  }

  /** A fresh socket (not resumed) is in no room: what it knew of the room is gone. */
  _reset() {
    const had = Object.keys(this._state).length > 0;
    this._state = {};
    this._version = null;
    this._pending = [];
    if (had) {
      this._callbacks.sync();
    }
  }

  _applyState(state, version) {
    const old = this._state;
    const next = clone(state);
    this._state = next;
    // Phoenix's syncState: the metas the new state has that the old had not join, the reverse leave.
    for (const key of Object.keys(next)) {
      const joined = next[key].metas.filter((meta) => !(old[key] && old[key].metas.some((m) => same(m, meta))));
      if (joined.length > 0) {
        this._callbacks.join(key, old[key], { metas: joined });
      }
    }

    for (const key of Object.keys(old)) {
      const left = old[key].metas.filter((meta) => !(next[key] && next[key].metas.some((m) => same(m, meta))));
      if (left.length > 0) {
        this._callbacks.leave(key, next[key], { metas: left });
      }
    }

    this._version = parseVersion(version);
    for (const diff of this._pending.splice(0)) {
      this._applyDiff(diff);
    }

    this._callbacks.sync();
  }

  _onDiff(diff) {
    if (this._version === null) {
      this._pending.push(diff);
      if (this._pending.length > MAX_PENDING_DIFFS) {
        this._pending.shift();
      }

      return;
    }

    if (this._applyDiff(diff)) {
      this._callbacks.sync();
    }
  }

  /**
   * Applies a diff newer than the state: its leaves, then its joins (a meta update is a leave and a join of one
   * ref), then tells the callbacks: onLeave with the key as the diff leaves it (undefined when it is gone), onJoin
   * with the key as it was before. True when it was applied.
   */
  _applyDiff(diff) {
    const version = parseVersion(diff.version);
    if (version && this._version && version.epoch === this._version.epoch && version.seq <= this._version.seq) {
      return false;
    }

    const before = clone(this._state);
    const lefts = [];
    for (const key of Object.keys(diff.leaves || {})) {
      const current = this._state[key];
      const left = current ? diff.leaves[key].metas.filter((meta) => current.metas.some((m) => same(m, meta))) : [];
      if (left.length > 0) {
        current.metas = current.metas.filter((m) => !left.some((meta) => same(m, meta)));
        lefts.push([key, left]);
      }
    }

    const joins = [];
    for (const key of Object.keys(diff.joins || {})) {
      const current = this._state[key];
      const joined = diff.joins[key].metas.filter((meta) => !(current && current.metas.some((m) => same(m, meta))));
      if (joined.length > 0) {
        const kept = current ? current.metas.filter((m) => !joined.some((meta) => meta.ref === m.ref)) : [];
        this._state[key] = { metas: [...kept, ...clone(joined)] };
        joins.push([key, joined]);
      }
    }

    for (const [key] of lefts) {
      if (this._state[key] && this._state[key].metas.length === 0) {
        delete this._state[key];
      }
    }

    if (version) {
      this._version = version;
    }

    for (const [key, left] of lefts) {
      this._callbacks.leave(key, this._state[key], { metas: left });
    }

    for (const [key, joined] of joins) {
      this._callbacks.join(key, before[key], { metas: joined });
    }

    return true;
  }
}

function same(a, b) {
  return a.ref === b.ref && JSON.stringify(a) === JSON.stringify(b);
}

function parseVersion(version) {
  if (typeof version !== 'string') {
    return null;
  }

  const dot = version.lastIndexOf('.');
  return dot < 0 ? null : { epoch: version.slice(0, dot), seq: Number(version.slice(dot + 1)) };
}

function headerOf(headers, name) {
  for (const key of Object.keys(headers || {})) {
    if (key.toLowerCase() === name) {
      const value = headers[key];
      return Array.isArray(value) ? value[0] : value;
    }
  }

  return undefined;
}

function clone(value) {
  return JSON.parse(JSON.stringify(value));
}

function checkFn(fn, name) {
  if (typeof fn !== 'function') {
    throw new Error(`presence.${name}(fn): \`fn\` must be a function.`);
  }

  return fn;
}
