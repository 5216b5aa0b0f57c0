/* A listening room: ws/rooms/<id>/ (DESIGN section 7).
 *
 * Clock: NTP-style. Eight time.ping samples; the one with the lowest round trip wins, its
 * offset is server_ms - (t0 + rtt / 2). The best round trip is reported to the server, which
 * schedules commands at now + max(2 x the highest member round trip, 500 ms).
 * Playback follows the room's timeline: at server time at_server_ms the song is at
 * position_ms. Playing is started by a timer at at_server_ms; then, every 200 ms, the drift
 * between the <audio> element and the timeline is corrected: by a seek at 400 ms or more, by a
 * slight change of playback rate below that (inaudible, and no gap in the sound).
 */
(function () {
  "use strict";

  var SAMPLES = 8;
  var RESYNC_MS = 30000;
  var SEEK_AT_MS = 400;
  var NUDGE_FROM_MS = 15;

  function clientNow() {
    return performance.timeOrigin + performance.now();
  }

  function Room(root) {
    this.root = root;
    this.audio = document.getElementById("room-audio");
    this.userId = root.dataset.userId;
    this.wsPath = root.dataset.wsPath;
    this.offset = 0;
    this.synced = false;
    this.bestRtt = null;
    this.state = null;
    this.songId = null;
    this.readySent = -1;
    this.timer = null;
    this.retry = 500;
    this.pings = {};
    this.stats = { seeks: 0, nudges: 0 };
    this.connect();
    this.bind();
    setInterval(this.correct.bind(this), 200);
  }

  Room.prototype.serverNow = function () {
    return clientNow() + this.offset;
  };

  Room.prototype.connect = function () {
    var self = this;
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(scheme + location.host + this.wsPath);
    this.ws = ws;
    ws.onopen = function () {
      self.retry = 500;
      self.status("Connected.");
      self.sync();
    };
    ws.onmessage = function (event) {
      self.receive(JSON.parse(event.data));
    };
    ws.onclose = function (event) {
      if (event.code === 4401) { self.status("Sign in again to listen."); return; }
      if (event.code === 4403) { self.status("You are not in this room."); return; }
      self.status("Reconnecting…");
      setTimeout(self.connect.bind(self), self.retry);
      self.retry = Math.min(self.retry * 2, 10000);
    };
  };

  Room.prototype.send = function (message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  };

  Room.prototype.sync = function () {
    var self = this;
    this.samples = [];
    for (var i = 0; i < SAMPLES; i++) {
      setTimeout(function () { self.send({ type: "time.ping", t0: clientNow() }); }, i * 60);
    }
    clearTimeout(this.resync);
    this.resync = setTimeout(this.sync.bind(this), RESYNC_MS);
  };

  Room.prototype.pong = function (message) {
    var now = clientNow();
    var rtt = now - message.t0;
    this.samples.push({ rtt: rtt, offset: message.server_ms - (message.t0 + rtt / 2) });
    if (this.samples.length < SAMPLES) return;
    var best = this.samples.reduce(function (a, b) { return b.rtt < a.rtt ? b : a; });
    this.offset = best.offset;
    this.bestRtt = best.rtt;
    this.synced = true;
    this.send({ type: "rtt", rtt_ms: Math.round(best.rtt) });
    if (this.state) this.apply(this.state);
  };

  Room.prototype.receive = function (message) {
    switch (message.type) {
      case "time.pong": this.pong(message); break;
      case "room.state":
        if (this.state && message.state.version < this.state.version) return;
        this.state = message.state;
        this.render();
        this.apply(this.state);
        break;
      case "chat": this.chat(message); break;
      case "member.joined": this.chatNote(message.member.display_name + " joined."); break;
      case "member.left": break;
      case "member.presence": this.presence(message.user_id, message.online); break;
      case "error": this.error(message.detail || message.code); break;
    }
  };

  /* --- playback ------------------------------------------------------------------------- */

  Room.prototype.expectedMs = function () {
    var s = this.state;
    if (s.status !== "playing") return s.position_ms;
    return s.position_ms + Math.max(this.serverNow() - s.at_server_ms, 0);
  };

  Room.prototype.load = function (song) {
    var self = this;
    if (!song) { this.audio.removeAttribute("src"); this.songId = null; return; }
    if (song.id === this.songId) return;
    this.songId = song.id;
    this.audio.src = song.stream_url;
    this.audio.load();
    this.audio.addEventListener("canplay", function () { self.maybeReady(); }, { once: true });
  };

  Room.prototype.maybeReady = function () {
    var s = this.state;
    if (!s || s.status !== "waiting" || this.readySent >= s.version) return;
    if (this.audio.readyState < 3) return;
    this.readySent = s.version;
    this.send({ type: "ready", version: s.version });
  };

  Room.prototype.apply = function (s) {
    var self = this;
    var audio = this.audio;
    clearTimeout(this.timer);
    this.load(s.song);
    if (!s.song) { audio.pause(); return; }
    audio.playbackRate = 1;
    if (s.status === "waiting") {
      audio.pause();
      audio.currentTime = s.position_ms / 1000;
      this.maybeReady();
      return;
    }
    if (!this.synced) return;  // applied again once the clock is known
    var wait = s.at_server_ms - this.serverNow();
    if (s.status === "paused") {
      this.timer = setTimeout(function () {
        audio.pause();
        audio.currentTime = s.position_ms / 1000;
      }, Math.max(wait, 0));
      return;
    }
    if (wait > 0) {
      if (!audio.paused && Math.abs(audio.currentTime * 1000 - (s.position_ms - wait)) < SEEK_AT_MS) {
        return;  // already on this timeline (a seek that changes nothing, a resumed reconnect)
      }
      audio.pause();
      audio.currentTime = s.position_ms / 1000;
      this.timer = setTimeout(function () { self.start(); }, wait);
    } else {
      this.start();
    }
  };

  Room.prototype.start = function () {
    var audio = this.audio;
    audio.currentTime = this.expectedMs() / 1000;
    var playing = audio.play();
    var self = this;
    if (playing && playing.catch) {
      playing.catch(function (error) {
        if (error.name === "NotAllowedError") self.askForSound();
      });
    }
  };

  Room.prototype.askForSound = function () {
    var self = this;
    if (document.getElementById("room-sound")) return;
    var button = document.createElement("button");
    button.id = "room-sound";
    button.type = "button";
    button.className = "button";
    button.textContent = "Turn the sound on";
    button.addEventListener("click", function () { button.remove(); self.apply(self.state); });
    document.getElementById("room-controls").prepend(button);
  };

  Room.prototype.drift = function () {
    if (!this.state || this.state.status !== "playing" || this.audio.paused) return null;
    if (this.serverNow() < this.state.at_server_ms) return null;
    return this.audio.currentTime * 1000 - this.expectedMs();
  };

  Room.prototype.correct = function () {
    var drift = this.drift();
    if (drift === null) return;
    var audio = this.audio;
    if (Math.abs(drift) >= SEEK_AT_MS) {
      audio.currentTime = this.expectedMs() / 1000;
      audio.playbackRate = 1;
      this.stats.seeks += 1;
    } else if (Math.abs(drift) > NUDGE_FROM_MS) {
      audio.playbackRate = 1 - Math.max(-0.05, Math.min(0.05, drift / 2000));
      this.stats.nudges += 1;
    } else {
      audio.playbackRate = 1;
    }
    var seek = document.getElementById("room-seek");
    if (seek && document.activeElement !== seek) seek.value = Math.round(this.expectedMs() / 1000);
  };

  /* --- rendering ------------------------------------------------------------------------ */

  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text) node.textContent = text;
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }

  Room.prototype.mayCommand = function () {
    return this.state && (this.state.host_id === this.userId || this.state.guests_may_command);
  };

  Room.prototype.render = function () {
    var s = this.state;
    var self = this;
    document.getElementById("room-now").textContent = s.song
      ? s.song.title + " by " + s.song.artist_name + (s.song.quality ? " (" + s.song.quality + ")" : "")
      : "Nothing yet.";
    this.status({ playing: "Playing", paused: "Paused", waiting: "Waiting for everyone to load the song…" }[s.status]);
    var seek = document.getElementById("room-seek");
    seek.max = s.song && s.song.duration_ms ? Math.round(s.song.duration_ms / 1000) : 0;
    document.querySelectorAll("#room-controls [data-action], #room-seek").forEach(function (b) {
      b.disabled = !self.mayCommand();
    });

    var members = document.getElementById("room-members");
    members.replaceChildren.apply(members, s.members.map(function (m) {
      var li = el("li", m.display_name + (m.is_host ? " (host)" : "") + (m.online ? "" : " · away"));
      li.dataset.userId = m.id;
      return li;
    }));

    var queue = document.getElementById("room-queue");
    queue.replaceChildren.apply(queue, s.queue.map(function (e) {
      var li = el("li", e.song.title + " · added by " + (e.added_by ? e.added_by.display_name : "someone"));
      if (e.current) li.setAttribute("aria-current", "true");
      if (self.mayCommand()) {
        var play = el("button", "Play", { type: "button", class: "link-button" });
        play.addEventListener("click", function () { self.command("play", { song_id: e.song.id }); });
        var remove = el("button", "Remove", { type: "button", class: "link-button" });
        remove.addEventListener("click", function () { self.command("queue_remove", { entry_id: e.entry_id }); });
        li.append(" ", play, " ", remove);
      }
      return li;
    }));
  };

  Room.prototype.presence = function (userId, online) {
    if (!this.state) return;
    this.state.members.forEach(function (m) { if (m.id === userId) m.online = online; });
    this.render();
  };

  Room.prototype.status = function (text) {
    document.getElementById("room-status").textContent = text;
  };

  Room.prototype.error = function (text) {
    var node = document.getElementById("room-error");
    node.textContent = text;
    node.hidden = false;
    clearTimeout(this.errorTimer);
    this.errorTimer = setTimeout(function () { node.hidden = true; }, 5000);
  };

  Room.prototype.chat = function (message) {
    var li = el("li");
    li.append(el("strong", message.user.display_name + ": "), message.text);
    document.getElementById("room-chat").append(li);
  };

  Room.prototype.chatNote = function (text) {
    document.getElementById("room-chat").append(el("li", text, { class: "muted" }));
  };

  Room.prototype.command = function (action, extra) {
    var message = { type: "command", action: action };
    Object.keys(extra || {}).forEach(function (k) { message[k] = extra[k]; });
    this.send(message);
  };

  /* --- controls, search, chat ---------------------------------------------------------- */

  Room.prototype.bind = function () {
    var self = this;
    document.querySelectorAll("#room-controls [data-action]").forEach(function (button) {
      button.addEventListener("click", function () { self.command(button.dataset.action); });
    });
    document.getElementById("room-seek").addEventListener("change", function (event) {
      self.command("seek", { position_ms: Number(event.target.value) * 1000 });
    });
    document.getElementById("room-chat-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var input = document.getElementById("room-chat-text");
      if (input.value.trim()) self.send({ type: "chat", text: input.value });
      input.value = "";
    });
    var search = document.getElementById("room-search-q");
    var pending = null;
    document.getElementById("room-search").addEventListener("submit", function (e) { e.preventDefault(); });
    search.addEventListener("input", function () {
      clearTimeout(pending);
      pending = setTimeout(function () { self.search(search.value); }, 200);
    });
  };

  Room.prototype.search = function (text) {
    var self = this;
    var list = document.getElementById("room-search-results");
    if (!text.trim()) { list.replaceChildren(); return; }
    fetch("/api/songs/search?page_size=10&q=" + encodeURIComponent(text), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { results: [] }; })
      .then(function (data) {
        list.replaceChildren.apply(list, data.results.map(function (song) {
          var li = el("li", song.title + " · " + (song.artist ? song.artist.name : song.artist_name || ""));
          var add = el("button", "Add", { type: "button", class: "link-button", "aria-label": "Add " + song.title });
          add.addEventListener("click", function () { self.command("queue_add", { song_id: song.id }); });
          li.append(" ", add);
          return li;
        }));
      });
  };

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("room");
    if (!root) return;
    var room = new Room(root);
    /* For tests and the curious: where this member's player is, on the shared clock. */
    window.encoreRoom = {
      room: room,
      report: function () {
        return {
          position_ms: room.audio.currentTime * 1000,
          at_ms: clientNow(),
          server_ms: room.serverNow(),
          playing: !room.audio.paused,
          drift_ms: room.drift(),
          offset_ms: room.offset,
          rtt_ms: room.bestRtt,
          version: room.state ? room.state.version : null,
          stats: room.stats
        };
      }
    };
  });
})();
