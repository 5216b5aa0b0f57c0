// The commission and order pages work without this; it makes htmx answers feel right.
(() => {
  const FRAGMENT = "X-Orders-Fragment";

  // Our forms answer a mistake (400), a refusal (403) or a state that moved on (409) with the
  // fragment that explains it; htmx leaves 4xx answers unswapped unless told otherwise.
  document.addEventListener("htmx:beforeSwap", (event) => {
    const { xhr } = event.detail;
    if (xhr.status >= 400 && xhr.status < 500 && xhr.getResponseHeader(FRAGMENT)) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // After a swap, bring keyboard and screen reader users to what changed.
  document.addEventListener("htmx:afterSwap", (event) => {
    // An outerHTML swap replaces the target: look it up again by its id.
    const old = event.detail.target;
    const root = (old && old.id && document.getElementById(old.id)) || old;
    if (!root || !root.isConnected) return;
    const invalid = root.querySelector(".field-invalid input, .field-invalid select, .field-invalid textarea");
    const focus = invalid || root.querySelector("[data-focus-after-swap]");
    if (focus && event.detail.requestConfig && event.detail.requestConfig.verb !== "get") {
      focus.focus({ preventScroll: false });
    }
  });

  // Upload buttons say that they are working (large files take a moment).
  document.addEventListener("htmx:beforeRequest", (event) => {
    const form = event.detail.elt;
    if (form instanceof HTMLFormElement && form.enctype === "multipart/form-data") {
      const button = form.querySelector("button[type=submit]");
      if (button) {
        button.disabled = true;
        button.dataset.label = button.textContent;
        button.textContent = "Uploading…";
      }
    }
  });
  document.addEventListener("htmx:afterRequest", (event) => {
    const form = event.detail.elt;
    const button = form instanceof HTMLFormElement && form.querySelector("button[data-label]");
    if (button && button.isConnected) {
      button.disabled = false;
      button.textContent = button.dataset.label;
    }
  });
})();
