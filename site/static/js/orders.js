// The commission and order pages work without this; it makes htmx answers feel right.
(() => {
  const FRAGMENT = "X-Orders-Fragment";

  // Our forms answer a mistake (400), a refusal (403), a state that moved on (409) or a part of
  // the site that is not set up (503, payments) with the fragment that explains it; htmx leaves
  // error answers unswapped unless told otherwise. The header, not the status, says "show me".
  document.addEventListener("htmx:beforeSwap", (event) => {
    const { xhr } = event.detail;
    if (xhr.status >= 400 && xhr.getResponseHeader(FRAGMENT)) {
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

  // The commission form. Its steps come from the server (htmx swaps the form), so what is
  // set up here is set up again on every swap.
  const CUSTOMER_LYRICS = "customer";

  // The lyrics box is for the customer's own lyrics: shown only while they say they write
  // them. Without this script it stays on the page and the server leaves it out otherwise.
  const syncLyrics = (form) => {
    const box = form.querySelector('[data-field="lyrics"]');
    const choices = form.querySelectorAll('input[type="radio"][name="lyrics_choice"]');
    if (!box || choices.length === 0) return;
    const picked = form.querySelector('input[name="lyrics_choice"]:checked');
    const shown = Boolean(picked) && picked.value === CUSTOMER_LYRICS;
    box.hidden = !shown;
    // Hidden lyrics are not sent: they would only be thrown away.
    box.querySelectorAll("textarea").forEach((area) => { area.disabled = !shown; });
  };

  // The occasion date: the browser already refuses one before the date input's `min` (the
  // delivery time); say why in the form's own words instead of the browser's.
  const checkDate = (input) => {
    input.setCustomValidity("");
    if (input.validity.rangeUnderflow && input.dataset.tooSoon) {
      input.setCustomValidity(input.dataset.tooSoon);
    }
  };

  const setUp = (root) => {
    const forms = root.matches && root.matches("form[data-orders]")
      ? [root]
      : root.querySelectorAll("form[data-orders]");
    forms.forEach((form) => {
      syncLyrics(form);
      form.querySelectorAll("input[data-too-soon]").forEach(checkDate);
    });
  };

  document.addEventListener("change", (event) => {
    const { target } = event;
    if (target.name === "lyrics_choice" && target.form) syncLyrics(target.form);
    if (target.dataset && target.dataset.tooSoon !== undefined) checkDate(target);
  });
  document.addEventListener("input", (event) => {
    if (event.target.dataset && event.target.dataset.tooSoon !== undefined) checkDate(event.target);
  });
  document.addEventListener("DOMContentLoaded", () => setUp(document));
  document.addEventListener("htmx:load", (event) => setUp(event.detail.elt));

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
