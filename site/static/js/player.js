// The persistent player (catalog/_player.html in base.html, outside #main): boosted navigation
// swaps the page around it, so one <audio> element keeps playing from page to page.
//
// Pressing play on a song in a list ([data-queue] > [data-song-id]) queues that whole list.
// Streams come from GET /api/songs/{id}/stream?redirect=false (HLS through hls.js where the
// browser has Media Source Extensions, else the MP3 or the original), and each listen is
// reported to POST /api/songs/{id}/play as completed, skipped or stopped. A free listener out of
// skips gets a 429 (skip_limit): the player says so and keeps playing.
(() => {
  if (window.encorePlayer) return;
  const root = document.getElementById("player");
  if (!root) return;

  // Drawn, not typed: the media-control characters are missing from many system fonts.
  const icon = (path) =>
    `<svg class="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="${path}"/></svg>`;
  const ICONS = { play: icon("M8 5v14l11-7z"), pause: icon("M6 5h4v14H6zm8 0h4v14h-4z") };

  const audio = root.querySelector("audio");
  const $ = (selector) => root.querySelector(selector);
  const ui = {
    title: $(".player-title"),
    artist: $(".player-artist"),
    quality: $("[data-player-quality]"),
    toggle: $("[data-player=toggle]"),
    previous: $("[data-player=previous]"),
    next: $("[data-player=next]"),
    seek: $("[data-player=seek]"),
    elapsed: $("[data-player-elapsed]"),
    total: $("[data-player-total]"),
    like: $("[data-player=like]"),
    favorite: $("[data-player=favorite]"),
    qualityChoice: $("[data-player=quality]"),
    message: $("[data-player-message]"),
    announce: $("[data-player-announce]"),
  };
  const signedIn = root.dataset.signedIn === "true";
  const QUALITY_RANK = { low: 0, normal: 1, high: 2 };
  const QUALITY_NAMES = { low: "Low", normal: "Normal", high: "High", original: "Original" };
  const STORE_KEY = "encore.player";
  const QUALITY_KEY = "encore.quality";
  const RESTART_AFTER = 3; // seconds: "previous" restarts the song once this much has played

  const state = {
    queue: [], // [{id, title, artist, url, artistUrl, duration, liked, favorite}]
    index: -1,
    context: "",
    listen: null, // the listen being played: {songId, startedAt, ms, reported}
    lastTime: 0,
    hls: null,
    stream: null,
    changing: false,
  };

  // --- small helpers ------------------------------------------------------------------------

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch {
      return "";
    }
  }

  function api(method, url, body, options = {}) {
    const headers = { Accept: "application/json", "X-CSRFToken": csrfToken() };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(url, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
      ...options,
    });
  }

  function clock(seconds) {
    if (!Number.isFinite(seconds) || seconds < 0) seconds = 0;
    const whole = Math.floor(seconds);
    return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
  }

  function say(text) {
    ui.message.textContent = text || "";
  }

  function current() {
    return state.queue[state.index] || null;
  }

  function songFromRow(row) {
    const d = row.dataset;
    return {
      id: d.songId,
      title: d.title,
      artist: d.artist,
      url: d.url,
      artistUrl: d.artistUrl,
      cover: d.cover || "",
      duration: parseFloat(d.duration) || null,
      liked: d.liked === "true",
      favorite: d.favorite === "true",
    };
  }

  // --- the listen and its report -------------------------------------------------------------

  function listenStart(song) {
    state.listen = { songId: song.id, startedAt: new Date().toISOString(), ms: 0, reported: false };
    state.lastTime = audio.currentTime || 0;
  }

  // Reports the listen once. Resolves true when the song may change (recorded, or nothing to
  // record), false when the server refused a skip (the 429 skip limit).
  async function listenReport(endedReason, { keepalive = false } = {}) {
    const listen = state.listen;
    if (!listen || listen.reported) return true;
    if (!signedIn) {
      listen.reported = true;
      return true;
    }
    const body = {
      ms_played: Math.round(listen.ms),
      ended_reason: endedReason,
      context: state.context.slice(0, 80),
      device: "web",
      started_at: listen.startedAt,
    };
    if (keepalive) {
      listen.reported = true;
      api("POST", `/api/songs/${listen.songId}/play`, body, { keepalive: true }).catch(() => {});
      return true;
    }
    let response;
    try {
      response = await api("POST", `/api/songs/${listen.songId}/play`, body);
    } catch {
      listen.reported = true; // offline: do not hold the listener back
      return true;
    }
    if (response.status === 429) {
      let data = {};
      try {
        data = await response.json();
      } catch {
        /* the status says enough */
      }
      if (data.code === "skip_limit") {
        const minutes = Math.max(1, Math.ceil((data.retry_after || 60) / 60));
        say(
          `You have used this hour's skips on the free plan. You can skip again in ${minutes} ` +
            `minute${minutes === 1 ? "" : "s"}, or go Premium for unlimited skips.`,
        );
        return false;
      }
    }
    listen.reported = true;
    return true;
  }

  // --- streams ------------------------------------------------------------------------------

  let hlsLoading = null;
  function loadHls() {
    if (window.Hls) return Promise.resolve(window.Hls);
    if (!hlsLoading) {
      hlsLoading = new Promise((resolve) => {
        const script = document.createElement("script");
        script.src = root.dataset.hlsSrc;
        script.onload = () => resolve(window.Hls || null);
        script.onerror = () => resolve(null);
        document.head.appendChild(script);
      });
    }
    return hlsLoading;
  }

  async function hlsPlayable() {
    if (audio.canPlayType("application/vnd.apple.mpegurl")) return "native";
    if (!("MediaSource" in window || "ManagedMediaSource" in window)) return null;
    const Hls = await loadHls();
    return Hls && Hls.isSupported() ? "hlsjs" : null;
  }

  function wantedQuality() {
    const stored = localStorage.getItem(QUALITY_KEY);
    return stored in QUALITY_RANK ? stored : "normal";
  }

  function showQuality(stream) {
    if (!stream) {
      ui.quality.textContent = "";
      return;
    }
    let text;
    if (stream.quality === "original") {
      text = "Original file (the streaming versions are still being made)";
    } else {
      text = `${QUALITY_NAMES[stream.quality] || stream.quality}${stream.bitrate_kbps ? ` ${stream.bitrate_kbps} kbps` : ""}`;
      if (stream.format === "hls") text += " · HLS";
      if (QUALITY_RANK[stream.quality] < QUALITY_RANK[stream.asked]) {
        text += ` (your plan plays up to ${stream.max_kbps} kbps; ${QUALITY_NAMES[stream.asked]} needs Premium)`;
      }
    }
    ui.quality.textContent = text;
  }

  function detachHls() {
    if (state.hls) {
      state.hls.destroy();
      state.hls = null;
    }
  }

  // Fetches a fresh signed link for the current song and loads it, from ``position`` seconds.
  async function attach(song, { position = 0, play = true } = {}) {
    const how = await hlsPlayable();
    const params = new URLSearchParams({ quality: wantedQuality(), redirect: "false" });
    if (how) params.set("format", "hls");
    let response;
    try {
      response = await fetch(`/api/songs/${song.id}/stream?${params}`, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
    } catch {
      say("Could not reach Encore to play this song. Check your connection.");
      return false;
    }
    if (!response.ok) {
      say(response.status === 404 ? "This song is no longer available." : "This song cannot be played right now.");
      return false;
    }
    const stream = await response.json();
    if (current() !== song) return false; // the listener moved on while we asked
    state.stream = stream;
    showQuality(stream);
    detachHls();
    if (stream.format === "hls" && how === "hlsjs") {
      const hls = new window.Hls({ startPosition: position });
      state.hls = hls;
      hls.on(window.Hls.Events.ERROR, (_event, data) => {
        if (data.fatal) {
          say("The stream stopped. Press play to try again.");
          detachHls();
          state.stream = null;
        }
      });
      const parsed = new Promise((resolve) => {
        hls.once(window.Hls.Events.MANIFEST_PARSED, () => resolve(true));
        hls.on(window.Hls.Events.ERROR, (_event, data) => data.fatal && resolve(false));
      });
      hls.loadSource(stream.url);
      hls.attachMedia(audio);
      if (!(await parsed)) return false;
    } else {
      audio.src = stream.url;
      if (position) {
        audio.addEventListener("loadedmetadata", () => (audio.currentTime = position), { once: true });
      }
    }
    state.lastTime = position;
    if (play) {
      try {
        await audio.play();
      } catch (error) {
        // Autoplay refused (a restored player on a fresh page): the listener presses play.
        if (error && error.name !== "AbortError") updateToggle();
      }
    }
    return true;
  }

  // --- playing --------------------------------------------------------------------------------

  // Plays song ``index`` of ``queue``. The listen it replaces is reported first; a skip the
  // plan refuses leaves everything as it was.
  async function playIndex(index, { queue = state.queue, context = state.context, endedReason = "skipped", position = 0, autoplay = true } = {}) {
    if (state.changing) return;
    const song = queue[index];
    if (!song) return;
    state.changing = true;
    try {
      if (state.listen && !state.listen.reported && current()) {
        const allowed = await listenReport(audio.ended ? "completed" : endedReason);
        if (!allowed) return;
      }
      say("");
      state.queue = queue;
      state.context = context;
      state.index = index;
      showSong(song);
      listenStart(song);
      const ok = await attach(song, { position, play: autoplay });
      if (ok && autoplay) {
        ui.announce.textContent = `Now playing: ${song.title} by ${song.artist}`;
      }
      save();
    } finally {
      state.changing = false;
    }
  }

  function showSong(song) {
    root.hidden = false;
    document.body.classList.add("has-player");
    ui.title.textContent = song.title;
    ui.title.setAttribute("href", song.url);
    ui.artist.textContent = song.artist ? `by ${song.artist}` : "";
    const cover = root.querySelector("[data-player-cover]");
    if (cover) {
      cover.hidden = !song.cover;
      if (song.cover) cover.src = song.cover;
    }
    ui.seek.max = String(Math.round(song.duration || 0));
    ui.total.textContent = clock(song.duration || 0);
    ui.previous.disabled = false;
    ui.next.disabled = state.index >= state.queue.length - 1;
    showMarks(song);
    markRows();
    updateToggle();
  }

  function showMarks(song) {
    for (const [kind, button] of [["like", ui.like], ["favorite", ui.favorite]]) {
      if (!button) continue;
      button.setAttribute("aria-pressed", song && song[kind === "like" ? "liked" : "favorite"] ? "true" : "false");
    }
  }

  // The row of the song playing, in whatever page is shown now.
  function markRows() {
    const song = current();
    document.querySelectorAll(".song-row").forEach((row) => {
      const playing = Boolean(song) && row.dataset.songId === song.id;
      row.classList.toggle("is-playing", playing);
      const button = row.querySelector("[data-play]");
      if (button) {
        const title = row.dataset.title;
        const paused = !playing || audio.paused;
        button.setAttribute("aria-label", `${paused ? "Play" : "Pause"} ${title}`);
        button.innerHTML = paused ? ICONS.play : ICONS.pause;
      }
    });
  }

  function updateToggle() {
    const playing = !audio.paused && !audio.ended;
    ui.toggle.setAttribute("aria-label", playing ? "Pause" : "Play");
    ui.toggle.innerHTML = playing ? ICONS.pause : ICONS.play;
    markRows();
  }

  async function toggle() {
    const song = current();
    if (!song) return;
    if (audio.paused) {
      if (!state.stream) {
        await attach(song, { position: audio.currentTime || state.lastTime || 0 });
      } else {
        try {
          await audio.play();
        } catch {
          /* the error handler re-attaches an expired link */
        }
      }
    } else {
      audio.pause();
    }
  }

  function next() {
    if (state.index < state.queue.length - 1) playIndex(state.index + 1, { endedReason: "skipped" });
  }

  function previous() {
    if (audio.currentTime > RESTART_AFTER || state.index <= 0) {
      audio.currentTime = 0;
      state.lastTime = 0;
      return;
    }
    playIndex(state.index - 1, { endedReason: "skipped" });
  }

  function seekBy(seconds) {
    if (!current()) return;
    const duration = Number.isFinite(audio.duration) ? audio.duration : current().duration || 0;
    audio.currentTime = Math.min(Math.max(0, audio.currentTime + seconds), Math.max(0, duration - 0.1));
  }

  // --- likes, favourites, follows --------------------------------------------------------------

  const MARKS = {
    like: (id, on) => api("POST", `/api/songs/${id}/${on ? "like" : "unlike"}`),
    favorite: (id, on) => api(on ? "POST" : "DELETE", `/api/songs/${id}/favorite`),
    "album-favorite": (id, on) => api(on ? "POST" : "DELETE", `/api/albums/${id}/favorite`),
    follow: (id, on) => api(on ? "POST" : "DELETE", `/api/artists/${id}/follow`),
  };

  // Shows a mark everywhere it appears: page buttons, list rows, the player.
  function showMark(kind, id, on, data) {
    document.querySelectorAll(`[data-mark="${kind}"][data-id="${id}"]`).forEach((button) => {
      button.setAttribute("aria-pressed", on ? "true" : "false");
    });
    if (kind === "like" || kind === "favorite") {
      const field = kind === "like" ? "liked" : "favorite";
      document.querySelectorAll(`.song-row[data-song-id="${id}"]`).forEach((row) => {
        row.dataset[field] = on ? "true" : "false";
        const heart = row.querySelector("[data-liked-mark]");
        if (kind === "like" && heart) heart.hidden = !on;
      });
      state.queue.forEach((song) => {
        if (song.id === id) song[field] = on;
      });
      if (current() && current().id === id) showMarks(current());
      if (kind === "like" && data && typeof data.like_count === "number") {
        document.querySelectorAll(`[data-like-count="${id}"]`).forEach((el) => (el.textContent = data.like_count));
      }
    }
    if (kind === "follow" && data && typeof data.follower_count === "number") {
      document.querySelectorAll(`[data-follower-count="${id}"]`).forEach((el) => (el.textContent = data.follower_count));
    }
    save();
  }

  async function setMark(kind, id, on) {
    let response;
    try {
      response = await MARKS[kind](id, on);
    } catch {
      say("Could not reach Encore. Try again in a moment.");
      return;
    }
    if (response.status === 401 || response.status === 403) {
      let detail = "";
      try {
        detail = (await response.json()).detail || "";
      } catch {
        /* no body */
      }
      say(detail || "Log in to keep songs, albums and artists.");
      return;
    }
    if (!response.ok) {
      let detail = "";
      try {
        detail = (await response.json()).detail || "";
      } catch {
        /* no body */
      }
      say(detail || "That did not work. Try again in a moment.");
      return;
    }
    let data = null;
    try {
      data = await response.json();
    } catch {
      /* 204 */
    }
    say("");
    showMark(kind, id, on, data);
  }

  function toggleCurrentMark(kind) {
    const song = current();
    if (!song || !signedIn) return;
    const on = !(kind === "like" ? song.liked : song.favorite);
    setMark(kind, song.id, on);
  }

  // --- remembering the player across full page loads ----------------------------------------

  function save() {
    try {
      sessionStorage.setItem(
        STORE_KEY,
        JSON.stringify({
          queue: state.queue,
          index: state.index,
          context: state.context,
          position: audio.currentTime || 0,
        }),
      );
    } catch {
      /* storage full or disabled: the player simply starts empty next time */
    }
  }

  function restore() {
    let saved;
    try {
      saved = JSON.parse(sessionStorage.getItem(STORE_KEY) || "null");
    } catch {
      saved = null;
    }
    if (!saved || !Array.isArray(saved.queue) || !saved.queue[saved.index]) return;
    state.queue = saved.queue;
    state.index = saved.index;
    state.context = saved.context || "";
    state.lastTime = saved.position || 0;
    showSong(current());
    ui.seek.value = String(Math.floor(state.lastTime));
    ui.elapsed.textContent = clock(state.lastTime);
    // Browsers do not let a page start sound by itself: the listener presses play to resume.
    say("Press play to carry on where you left off.");
  }

  // --- events ---------------------------------------------------------------------------------

  audio.addEventListener("timeupdate", () => {
    const t = audio.currentTime;
    const delta = t - state.lastTime;
    // Only time actually heard counts: seeks jump further than a timeupdate step.
    if (state.listen && delta > 0 && delta < 1.5) state.listen.ms += delta * 1000;
    state.lastTime = t;
    if (!ui.seek.matches(":active")) ui.seek.value = String(Math.floor(t));
    ui.elapsed.textContent = clock(t);
    const duration = Number.isFinite(audio.duration) ? audio.duration : (current() && current().duration) || 0;
    ui.seek.setAttribute("aria-valuetext", `${clock(t)} of ${clock(duration)}`);
  });
  audio.addEventListener("seeked", () => {
    state.lastTime = audio.currentTime;
  });
  audio.addEventListener("durationchange", () => {
    if (Number.isFinite(audio.duration)) {
      ui.seek.max = String(Math.floor(audio.duration));
      ui.total.textContent = clock(audio.duration);
    }
  });
  audio.addEventListener("play", () => {
    // Playing again after the end (or after a report) is a new listen.
    if (current() && (!state.listen || state.listen.reported)) listenStart(current());
    updateToggle();
  });
  audio.addEventListener("pause", () => {
    updateToggle();
    save();
  });
  audio.addEventListener("ended", async () => {
    updateToggle();
    await listenReport("completed");
    if (state.index < state.queue.length - 1) playIndex(state.index + 1, { endedReason: "completed" });
  });
  // A signed link expires: fetch a fresh one and carry on from the same place.
  let lastRetry = 0;
  audio.addEventListener("error", () => {
    const song = current();
    if (!song || state.hls || Date.now() - lastRetry < 10_000) return;
    lastRetry = Date.now();
    const wasPlaying = state.listen && !state.listen.reported;
    attach(song, { position: state.lastTime || 0, play: Boolean(wasPlaying) });
  });

  ui.toggle.addEventListener("click", toggle);
  ui.next.addEventListener("click", next);
  ui.previous.addEventListener("click", previous);
  ui.seek.addEventListener("input", () => {
    if (!current()) return;
    audio.currentTime = Number(ui.seek.value);
    ui.elapsed.textContent = clock(Number(ui.seek.value));
  });
  if (ui.like) ui.like.addEventListener("click", () => toggleCurrentMark("like"));
  if (ui.favorite) ui.favorite.addEventListener("click", () => toggleCurrentMark("favorite"));
  ui.qualityChoice.value = wantedQuality();
  ui.qualityChoice.addEventListener("change", () => {
    localStorage.setItem(QUALITY_KEY, ui.qualityChoice.value);
    const song = current();
    if (song && state.stream) attach(song, { position: audio.currentTime, play: !audio.paused });
  });

  // Play buttons and mark buttons in whatever page is shown (boosted pages come and go).
  document.addEventListener("click", (event) => {
    const playButton = event.target.closest("[data-play]");
    if (playButton) {
      const row = playButton.closest("[data-song-id]");
      const list = playButton.closest("[data-queue]");
      if (!row || !list) return;
      event.preventDefault();
      const song = current();
      if (song && song.id === row.dataset.songId && state.context === list.dataset.queue) {
        toggle();
        return;
      }
      const rows = [...list.querySelectorAll("[data-song-id]")];
      playIndex(rows.indexOf(row), { queue: rows.map(songFromRow), context: list.dataset.queue });
      return;
    }
    const markButton = event.target.closest("button[data-mark]");
    if (markButton) {
      event.preventDefault();
      const on = markButton.getAttribute("aria-pressed") !== "true";
      setMark(markButton.dataset.mark, markButton.dataset.id, on);
    }
  });

  // Keyboard shortcuts, never while typing or when a control would take the key itself.
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target.closest && target.closest("input, textarea, select, [contenteditable=''], [contenteditable=true]")) return;
    if (!current()) return;
    const onControl = target.closest && target.closest("button, a, summary");
    switch (event.key) {
      case " ":
        if (onControl) return;
        event.preventDefault();
        toggle();
        break;
      case "ArrowRight":
        event.preventDefault();
        seekBy(5);
        break;
      case "ArrowLeft":
        event.preventDefault();
        seekBy(-5);
        break;
      case "n":
      case "N":
        next();
        break;
      case "p":
      case "P":
        previous();
        break;
      case "l":
      case "L":
        toggleCurrentMark("like");
        break;
      default:
        return;
    }
  });

  // Boosted navigation brought a new page: show which of its rows is playing.
  document.addEventListener("htmx:afterSettle", markRows);
  document.addEventListener("htmx:historyRestore", markRows);

  // Leaving for a page the boost could not swap (or closing the tab): the listen stops here.
  window.addEventListener("pagehide", () => {
    save();
    if (state.listen && !state.listen.reported && state.listen.ms > 0) {
      listenReport("stopped", { keepalive: true });
    }
  });

  restore();
  window.encorePlayer = {
    audio,
    state,
    playIndex,
    toggle,
    next,
    previous,
  };
})();
