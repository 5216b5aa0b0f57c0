// The live bell: listens on the person's own event stream (ws/events/) and asks htmx to refresh
// the bell when a notification arrives or is read elsewhere. Without JavaScript the bell is a
// plain link with the count of the page it was rendered on.
(() => {
  if (window.encoreNotifications || !("WebSocket" in window)) return;
  window.encoreNotifications = true;

  const CLOSE_UNAUTHENTICATED = 4401;
  let retryDelay = 1000;

  function announce(text) {
    const region = document.getElementById("notification-announcer");
    if (region) region.textContent = text;
  }

  function connect() {
    if (!document.getElementById("notification-bell")) return;
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${window.location.host}/ws/events/`);

    socket.addEventListener("open", () => {
      retryDelay = 1000;
    });
    socket.addEventListener("message", (message) => {
      let event;
      try {
        event = JSON.parse(message.data);
      } catch {
        return;
      }
      if (event.type === "notification") {
        document.body.dispatchEvent(new CustomEvent("notifications:new", { detail: event }));
        if (event.notification && event.notification.title) {
          announce(`New notification: ${event.notification.title}`);
        }
      } else if (event.type === "notification.read") {
        document.body.dispatchEvent(new CustomEvent("notifications:changed", { detail: event }));
      }
    });
    socket.addEventListener("close", (closed) => {
      if (closed.code === CLOSE_UNAUTHENTICATED) return; // logged out: nothing to listen to
      window.setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 60000);
    });
  }

  document.addEventListener("DOMContentLoaded", connect);
})();
