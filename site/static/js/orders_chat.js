// The order chat, live over ws/orders/<id>/ (DESIGN section 7). The server renders the panel
// (orders/_chat.html, loaded by htmx); this script connects, asks for what came after the last
// message it holds ("sync"), then shows messages, typing, read marks and status changes as they
// come. Messages are keyed by id, so a message that arrives twice (a push during a sync) shows
// once; outgoing ones keep their client_msg_id until the server echoes them, and are sent
// again with the same id after a reconnect (the server stores them once).
(() => {
  const CLOSE_UNAUTHENTICATED = 4401;
  const CLOSE_FORBIDDEN = 4403;
  const TYPING_RENEW_MS = 5000;

  function uuid4() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function el(tag, attrs = {}, text) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function setUp(root) {
    const panel = root.querySelector ? root.querySelector("[data-order-chat]") : null;
    if (!panel || panel.dataset.live || !("WebSocket" in window)) return;
    panel.dataset.live = "1";

    const orderId = panel.dataset.orderId;
    const me = panel.dataset.userId;
    const list = panel.querySelector("[data-chat-messages]");
    const typingLine = panel.querySelector("[data-chat-typing]");
    const unreadBadge = panel.querySelector("[data-chat-unread]");
    const connection = panel.querySelector("[data-chat-connection]");
    const form = panel.querySelector("[data-chat-form]");
    const errorLine = panel.querySelector("[data-chat-error]");
    let lastId = Number(panel.dataset.lastId || 0);
    let myRead = Number(panel.dataset.myRead || 0);
    let othersRead = Number(panel.dataset.othersRead || 0);
    let socket = null;
    let retryDelay = 1000;
    let stopped = false;
    const pending = new Map(); // client_msg_id -> frame, until the server echoes it
    const typists = new Map(); // user id -> {name, timer}
    let typingSentAt = 0;

    function say(text) {
      if (connection) connection.textContent = text;
    }

    function showError(text) {
      if (!errorLine) return;
      errorLine.textContent = text || "";
      errorLine.hidden = !text;
    }

    function unreadCount() {
      let count = 0;
      list.querySelectorAll("[data-message-id]").forEach((item) => {
        if (Number(item.dataset.messageId) > myRead && item.dataset.senderId !== me) count += 1;
      });
      return count;
    }

    function showUnread() {
      const count = unreadCount();
      if (!unreadBadge) return;
      unreadBadge.textContent = `${count} new`;
      unreadBadge.hidden = count === 0;
    }

    function showSeen() {
      list.querySelectorAll("[data-chat-seen]").forEach((mark) => {
        const item = mark.closest("[data-message-id]");
        mark.hidden = !item || Number(item.dataset.messageId) > othersRead;
      });
    }

    function attachmentNode(attachment) {
      const item = el("li", { class: `chat-attachment chat-attachment-${attachment.kind}` });
      if (attachment.kind === "image") {
        const link = el("a", { href: attachment.url });
        link.append(el("img", { src: attachment.url, alt: attachment.name || "Image", loading: "lazy" }));
        item.append(link);
      } else if (attachment.kind === "audio") {
        item.append(el("audio", { controls: "", preload: "none", src: attachment.url }), ` ${attachment.name}`);
      } else {
        item.append(el("a", { href: attachment.url }, `${attachment.name || "Document"} (PDF)`));
      }
      return item;
    }

    function messageNode(message) {
      const mine = message.sender.id === me;
      const item = el("li", {
        class: `chat-message${mine ? " chat-mine" : ""}`,
        "data-message-id": String(message.id),
        "data-client-msg-id": message.client_msg_id,
        "data-sender-id": message.sender.id,
      });
      const meta = el("p", { class: "chat-meta" });
      meta.append(el("strong", {}, message.sender.name), " ", el("span", { class: "chat-role" }, message.sender.role), " ");
      meta.append(el("time", { datetime: message.created_at }, new Date(message.created_at).toLocaleString()));
      item.append(meta);
      if (message.body) item.append(el("p", { class: "chat-body" }, message.body));
      if (message.attachments.length) {
        const files = el("ul", { class: "chat-attachments" });
        message.attachments.forEach((a) => files.append(attachmentNode(a)));
        item.append(files);
      }
      if (mine) {
        const seen = el("p", { class: "chat-seen", "data-chat-seen": "" }, "Seen");
        seen.hidden = message.id > othersRead;
        item.append(seen);
      }
      return item;
    }

    function addMessage(message) {
      pending.delete(message.client_msg_id);
      const local = list.querySelector(`[data-pending="${message.client_msg_id}"]`);
      if (local) local.remove();
      if (list.querySelector(`[data-message-id="${message.id}"]`)) return; // already shown
      const empty = list.querySelector("[data-chat-empty]");
      if (empty) empty.remove();
      const node = messageNode(message);
      // In id order, whatever order pushes and syncs arrive in.
      const after = [...list.querySelectorAll("[data-message-id]")].find(
        (item) => Number(item.dataset.messageId) > message.id,
      );
      list.insertBefore(node, after || list.querySelector("[data-pending]"));
      lastId = Math.max(lastId, message.id);
      clearTyping(message.sender.id);
      if (message.sender.id === me) myRead = Math.max(myRead, message.id);
      showUnread();
      markRead();
    }

    function showPending(frame) {
      const item = el("li", { class: "chat-message chat-mine chat-pending", "data-pending": frame.client_msg_id });
      item.append(el("p", { class: "chat-body" }, frame.body || "(attachment)"), el("p", { class: "help" }, "Sending…"));
      list.append(item);
    }

    function showTypists() {
      const names = [...typists.values()].map((t) => t.name);
      typingLine.hidden = names.length === 0;
      typingLine.textContent = names.length ? `${names.join(", ")} ${names.length > 1 ? "are" : "is"} typing…` : "";
    }

    function clearTyping(userId) {
      const typist = typists.get(userId);
      if (!typist) return;
      window.clearTimeout(typist.timer);
      typists.delete(userId);
      showTypists();
    }

    function onTyping(event) {
      if (event.user.id === me) return;
      clearTyping(event.user.id);
      if (event.state !== "start") return;
      // The server sends a stop when the time passes; the expiry holds even if that stop is lost.
      const timer = window.setTimeout(() => clearTyping(event.user.id), event.expires_in_ms || 15000);
      typists.set(event.user.id, { name: event.user.name, timer });
      showTypists();
    }

    function send(frame) {
      if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
    }

    function markRead() {
      if (document.hidden || lastId <= myRead) return;
      myRead = lastId;
      send({ type: "read", up_to_id: lastId });
      showUnread();
    }

    function onEvent(event) {
      switch (event.type) {
        case "hello":
          send({ type: "sync", after_id: lastId });
          break;
        case "message":
          addMessage(event.message);
          break;
        case "sync.done":
          say("");
          // What was sent while the connection was down goes again, under the same ids.
          pending.forEach((frame) => send(frame));
          markRead();
          break;
        case "typing":
          onTyping(event);
          break;
        case "read":
          if (event.user.id === me) {
            myRead = Math.max(myRead, event.up_to_id);
            showUnread();
          } else {
            othersRead = Math.max(othersRead, event.up_to_id);
            showSeen();
          }
          break;
        case "order.status":
          // The order's body refreshes itself (the watch answers the fresh fragment).
          if (window.htmx && document.getElementById("order-body")) {
            window.htmx.ajax("GET", `/orders/${orderId}/watch/?v=`, { target: "#order-body", swap: "outerHTML" });
          }
          break;
        case "error":
          if (event.client_msg_id) {
            pending.delete(event.client_msg_id);
            const local = list.querySelector(`[data-pending="${event.client_msg_id}"]`);
            if (local) local.remove();
          }
          showError(event.detail);
          break;
        default:
          break;
      }
    }

    function connect() {
      if (stopped || !panel.isConnected) return;
      const scheme = window.location.protocol === "https:" ? "wss" : "ws";
      socket = new WebSocket(`${scheme}://${window.location.host}/ws/orders/${orderId}/`);
      say("Connecting…");
      socket.addEventListener("open", () => {
        retryDelay = 1000;
      });
      socket.addEventListener("message", (message) => {
        try {
          onEvent(JSON.parse(message.data));
        } catch (error) {
          // One bad frame never stops the chat.
        }
      });
      socket.addEventListener("close", (closed) => {
        if (closed.code === CLOSE_UNAUTHENTICATED || closed.code === CLOSE_FORBIDDEN) {
          stopped = true;
          say("Sign in again to see new messages.");
          return;
        }
        say("Reconnecting…");
        window.setTimeout(connect, retryDelay);
        retryDelay = Math.min(retryDelay * 2, 30000);
      });
    }

    async function upload(file) {
      const body = new FormData();
      body.append("file", file);
      const response = await fetch(panel.dataset.attachmentsUrl, {
        method: "POST",
        body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken() },
      });
      const answer = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(`${file.name}: ${answer.detail || response.statusText}`);
      return answer.id;
    }

    if (form) {
      const textarea = form.querySelector("[data-chat-body]");
      const files = form.querySelector("[data-chat-files]");
      form.addEventListener("submit", async (submitted) => {
        submitted.preventDefault();
        showError("");
        const body = textarea.value.trim();
        const chosen = files ? [...files.files] : [];
        if (!body && !chosen.length) return;
        const button = form.querySelector("button[type=submit]");
        button.disabled = true;
        try {
          const attachments = [];
          for (const file of chosen) attachments.push(await upload(file));
          const frame = { type: "message.send", client_msg_id: uuid4(), body, attachments };
          pending.set(frame.client_msg_id, frame);
          showPending(frame);
          send(frame);
          send({ type: "typing", state: "stop" });
          typingSentAt = 0;
          textarea.value = "";
          if (files) files.value = "";
        } catch (error) {
          showError(error.message);
        } finally {
          button.disabled = false;
        }
      });
      textarea.addEventListener("keydown", (key) => {
        if (key.key === "Enter" && !key.shiftKey) {
          key.preventDefault();
          form.requestSubmit();
        }
      });
      textarea.addEventListener("input", () => {
        const now = Date.now();
        if (textarea.value && now - typingSentAt > TYPING_RENEW_MS) {
          typingSentAt = now;
          send({ type: "typing", state: "start" });
        } else if (!textarea.value && typingSentAt) {
          typingSentAt = 0;
          send({ type: "typing", state: "stop" });
        }
      });
    }

    document.addEventListener("visibilitychange", markRead);
    showSeen();
    showUnread();
    connect();
  }

  document.addEventListener("DOMContentLoaded", () => setUp(document));
  document.addEventListener("htmx:load", (event) => setUp(event.detail.elt.parentNode || event.detail.elt));
})();
