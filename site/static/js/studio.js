// The studio's live parts. Every studio page works without this; it adds:
// - the offers' countdowns, ticking each second down to the offer's expiry;
// - uploads that show their progress: the bytes going up (htmx's upload progress), then each
//   step of the media pipeline as it happens, from the person's own event stream (ws/events/,
//   "audio.progress" events), until the file is ready or failed;
// - the pages' parts that follow an upload or an order (the uploads panel) asking again when
//   one settles.
// Studio links are boosted (only #main is swapped), so everything here is set up again on
// htmx:load and the socket outlives page changes.
(() => {
  if (window.encoreStudio) return;
  window.encoreStudio = true;

  const FRAGMENT = "X-Studio-Fragment";
  const CLOSE_UNAUTHENTICATED = 4401;
  const URGENT_MS = 60 * 60 * 1000;
  const SETTLED = new Set(["ready", "failed"]);

  // Our forms answer a mistake (400), a refused file (413, 415) or a refusal (403) with the
  // fragment that explains it; htmx leaves error answers unswapped unless told otherwise.
  document.addEventListener("htmx:beforeSwap", (event) => {
    const { xhr } = event.detail;
    if (xhr.status >= 400 && xhr.getResponseHeader(FRAGMENT)) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // --- countdowns -------------------------------------------------------------------------

  const pad = (n) => String(n).padStart(2, "0");

  function timeLeft(ms) {
    const total = Math.max(0, Math.floor(ms / 1000));
    const days = Math.floor(total / 86400);
    const hours = Math.floor((total % 86400) / 3600);
    const minutes = Math.floor((total % 3600) / 60);
    const seconds = total % 60;
    if (days > 0) return `${days} d ${hours} h ${pad(minutes)} min`;
    if (hours > 0) return `${hours} h ${pad(minutes)} min ${pad(seconds)} s`;
    return `${minutes} min ${pad(seconds)} s`;
  }

  function tick() {
    const now = Date.now();
    document.querySelectorAll("[data-countdown]").forEach((clock) => {
      const left = Date.parse(clock.dataset.countdown) - now;
      if (Number.isNaN(left)) return;
      const card = clock.closest("[data-offer]");
      if (left <= 0) {
        clock.textContent = "no time: expired";
        if (card && !card.classList.contains("is-expired")) {
          card.classList.add("is-expired");
          // The server would refuse the answer now (409 offer_expired): say so instead.
          card.querySelectorAll("button").forEach((button) => { button.disabled = true; });
          const note = card.querySelector("[data-offer-expired]");
          if (note) note.hidden = false;
        }
        return;
      }
      clock.textContent = timeLeft(left);
      if (card) card.classList.toggle("is-urgent", left < URGENT_MS);
    });
  }
  window.setInterval(tick, 1000);
  document.addEventListener("DOMContentLoaded", tick);
  document.addEventListener("htmx:load", tick);

  // --- uploads ------------------------------------------------------------------------------

  let stepLabels = null;
  function stepLabel(step) {
    if (!stepLabels) {
      const data = document.getElementById("studio-step-labels");
      stepLabels = data ? JSON.parse(data.textContent) : {};
    }
    return stepLabels[step] || stepLabels[String(step).split(".")[0]] || "Processing";
  }

  function el(tag, attrs = {}, text) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // One upload as the live list shows it: the file, the bytes sent, then the pipeline's steps.
  class Upload {
    constructor(list, name) {
      this.item = el("li", { "data-state": "sending", "data-testid": "live-upload" });
      this.item.append(el("strong", {}, name));
      this.bar = el("progress", { max: "100", value: "0", "aria-label": `Progress of ${name}` });
      this.text = el("span", { class: "help", "data-upload-text": "", role: "status" }, "Sending…");
      const line = el("div", { class: "studio-progress" });
      line.append(this.bar, this.text);
      this.steps = el("ol", { class: "studio-upload-steps", "data-upload-steps": "" });
      this.item.append(line, this.steps);
      list.prepend(this.item);
      list.closest("[data-upload-live]").hidden = false;
      this.assetId = null;
      this.seen = new Set();
    }

    sent(loaded, total) {
      const share = total ? Math.round((loaded / total) * 100) : 0;
      this.bar.value = share;
      this.text.textContent = share < 100 ? `Sending: ${share}%` : "Sent: waiting for the checks…";
    }

    refused(message) {
      this.item.dataset.state = "failed";
      this.text.textContent = message;
    }

    waiting() {
      if (this.item.dataset.state === "sending") {
        this.item.dataset.state = "waiting";
        this.text.textContent = "Sent: waiting for the checks…";
      }
    }

    progress(event) {
      this.assetId = event.asset_id;
      this.item.dataset.assetId = event.asset_id;
      this.item.dataset.state = event.status === "failed" || event.status === "ready" ? event.status : "processing";
      this.bar.value = Math.round((event.progress || 0) * 100);
      const label = stepLabel(event.step);
      if (event.status === "failed") {
        this.text.textContent = `Failed: ${event.reason || "the file could not be processed"}`;
      } else if (event.status === "ready") {
        this.text.textContent = "Ready";
      } else {
        this.text.textContent = `${label} (${this.bar.value}%)`;
      }
      if ((event.status === "done" || event.status === "ready") && !this.seen.has(label)) {
        this.seen.add(label);
        this.steps.append(el("li", { "data-step": event.step }, label));
      }
    }
  }

  const uploads = new Map(); // the form -> its Upload, while the request is on its way
  const awaiting = []; // sent, not yet tied to the asset the server made of them
  const byAsset = new Map(); // asset id -> Upload

  function liveList(form) {
    const root = form.closest("[data-studio]");
    return root ? root.querySelector("[data-upload-list]") : null;
  }

  function fileName(form) {
    const input = form.querySelector('input[type="file"]');
    return input && input.files && input.files[0] ? input.files[0].name : "Your file";
  }

  document.addEventListener("htmx:beforeRequest", (event) => {
    const form = event.detail.elt;
    if (!(form instanceof HTMLFormElement) || form.enctype !== "multipart/form-data") return;
    const list = liveList(form);
    if (!list) return;
    const upload = new Upload(list, fileName(form));
    // Assets the page already follows were there before this upload: never its own.
    upload.before = new Set(
      [...document.querySelectorAll("[data-asset-progress]")].map((line) => line.dataset.assetProgress),
    );
    uploads.set(form, upload);
    awaiting.push(upload);
  });

  // htmx reports the request's upload and then its answer's download on the form: only the
  // bytes going up count, until they are all sent.
  document.addEventListener("htmx:xhr:progress", (event) => {
    const upload = uploads.get(event.detail.elt || event.target);
    if (!upload || upload.item.dataset.state !== "sending" || !event.detail.lengthComputable) return;
    upload.sent(event.detail.loaded, event.detail.total);
    if (event.detail.loaded >= event.detail.total) upload.waiting();
  });

  // The answer came: tell the upload. Said on htmx:beforeOnLoad, while the form is still in
  // the page (the answer replaces it, and events of a detached form reach no listener; the swap
  // events name the target, not the form), and on htmx:afterRequest for answers that swap
  // nothing (a network failure).
  function answered(form, status) {
    const upload = uploads.get(form);
    if (!upload) return;
    uploads.delete(form);
    if (status >= 400 || status === 0) {
      const index = awaiting.indexOf(upload);
      if (index >= 0) awaiting.splice(index, 1);
      if (!upload.assetId) upload.refused(status ? "Not accepted: see the form for why." : "The upload was interrupted.");
      return;
    }
    upload.waiting();
  }
  document.addEventListener("htmx:beforeOnLoad", (event) => answered(event.detail.elt, event.detail.xhr.status));
  document.addEventListener("htmx:afterRequest", (event) => answered(event.detail.elt, event.detail.xhr.status));

  // A page's own progress lines (an asset being processed when the page was rendered).
  function showOnPage(event) {
    document.querySelectorAll(`[data-asset-progress="${CSS.escape(event.asset_id)}"]`).forEach((line) => {
      const bar = line.querySelector("progress");
      const text = line.querySelector("[data-progress-text]");
      if (bar) bar.value = event.progress || 0;
      if (!text) return;
      if (event.status === "ready") text.textContent = "Ready";
      else if (event.status === "failed") text.textContent = `Failed: ${event.reason || "the file could not be processed"}`;
      else text.textContent = `${stepLabel(event.step)} (${Math.round((event.progress || 0) * 100)}%)`;
      line.dataset.state = event.status;
    });
  }

  function onProgress(event) {
    if (!event.asset_id) return;
    showOnPage(event);
    let upload = byAsset.get(event.asset_id);
    if (!upload && awaiting.length && !awaiting[0].before.has(event.asset_id)) {
      // The first news of an asset that was not on the page when the oldest upload still
      // waiting to hear which asset it became was sent: that one.
      upload = awaiting.shift();
      byAsset.set(event.asset_id, upload);
    }
    if (upload) upload.progress(event);
    if (SETTLED.has(event.status)) {
      document.body.dispatchEvent(new CustomEvent("studio:media-settled", { detail: event }));
    }
  }

  // The order body is swapped by orders' own answers and polling: the uploads panel follows.
  // (htmx:load fires on the new body; the element that asked, inside the old one, is gone.)
  document.addEventListener("htmx:load", (event) => {
    if (event.detail.elt && event.detail.elt.id === "order-body") {
      document.body.dispatchEvent(new CustomEvent("studio:order-changed"));
    }
  });

  // --- the person's event stream ------------------------------------------------------------

  let socket = null;
  let retryDelay = 1000;

  function connect() {
    if (socket || !("WebSocket" in window) || !document.querySelector("[data-studio]")) return;
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${window.location.host}/ws/events/`);
    socket.addEventListener("open", () => {
      retryDelay = 1000;
      document.documentElement.dataset.studioLive = "1";
    });
    socket.addEventListener("message", (message) => {
      let event;
      try {
        event = JSON.parse(message.data);
      } catch {
        return;
      }
      if (event && event.type === "audio.progress") onProgress(event);
    });
    socket.addEventListener("close", (closed) => {
      socket = null;
      delete document.documentElement.dataset.studioLive;
      if (closed.code === CLOSE_UNAUTHENTICATED) return; // logged out: nothing to follow
      window.setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 60000);
    });
  }

  document.addEventListener("DOMContentLoaded", connect);
  document.addEventListener("htmx:load", connect);
})();
