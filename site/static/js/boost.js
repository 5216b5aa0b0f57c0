// Boosted navigation: links marked hx-boost (the site navigation, the listening pages) fetch the
// next page with htmx and swap only #main, so the player outside it keeps playing. Without
// JavaScript, or when this gives up, the links are ordinary links.
(() => {
  if (window.encoreBoost) return;
  window.encoreBoost = true;

  // What a page's <head> loads beyond the title and description: its styles and scripts. htmx
  // swaps only #main, so a page needing anything the current document has not loaded (the
  // orders pages' script, the billing styles) is opened with a full load instead.
  function headAssets(head) {
    const assets = new Set();
    head.querySelectorAll("link[rel~=stylesheet], script[src], style, meta[http-equiv]").forEach((el) => {
      if (el.matches("link")) assets.add(`link ${new URL(el.getAttribute("href"), location.href).pathname}`);
      else if (el.matches("script")) assets.add(`script ${new URL(el.getAttribute("src"), location.href).pathname}`);
      else assets.add(el.outerHTML.replace(/\s+/g, " ").trim());
    });
    return assets;
  }

  function isNavigation(detail) {
    return detail.boosted || (detail.requestConfig && detail.requestConfig.boosted);
  }

  function fullLoad(detail) {
    const path = (detail.pathInfo && (detail.pathInfo.responsePath || detail.pathInfo.requestPath)) || location.href;
    window.location.assign(path);
  }

  document.addEventListener("htmx:beforeSwap", (event) => {
    const detail = event.detail;
    if (!isNavigation(detail)) return;
    const { xhr } = detail;
    // An error page (404, 403, 500) is shown whole, under its own address.
    if (xhr.status >= 400) {
      event.detail.shouldSwap = false;
      fullLoad(detail);
      return;
    }
    const type = xhr.getResponseHeader("Content-Type") || "";
    if (!type.startsWith("text/html")) {
      event.detail.shouldSwap = false;
      fullLoad(detail);
      return;
    }
    const next = new DOMParser().parseFromString(xhr.responseText, "text/html");
    const have = headAssets(document.head);
    const missing = [...headAssets(next.head)].some((asset) => !have.has(asset));
    if (missing || !next.getElementById("main")) {
      event.detail.shouldSwap = false;
      fullLoad(detail);
    }
  });

  // The header is not swapped: mark the current section the way cms.context_processors does
  // (the home page exactly, the others by prefix).
  function markNavigation() {
    const path = location.pathname;
    document.querySelectorAll("#nav-links a").forEach((link) => {
      const href = new URL(link.href, location.href).pathname;
      const active = href === "/" ? path === "/" : path.startsWith(href);
      if (active) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    });
    // The mobile menu closes once the listener has picked where to go.
    const links = document.getElementById("nav-links");
    const toggle = document.querySelector(".nav-toggle");
    if (links && toggle && links.classList.contains("open")) {
      links.classList.remove("open");
      toggle.setAttribute("aria-expanded", "false");
    }
  }

  document.addEventListener("htmx:afterSettle", (event) => {
    if (!isNavigation(event.detail)) return;
    markNavigation();
    // Bring keyboard and screen reader users to the new page's content.
    const main = document.getElementById("main");
    if (main) main.focus({ preventScroll: true });
  });
  document.addEventListener("htmx:historyRestore", markNavigation);
})();
