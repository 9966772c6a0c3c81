// The portal's only script: live updates of the company page, copy buttons, confirmations, and
// times in the viewer's own time zone. The pages work without it, except that they would need a
// reload to show new states, and show times in UTC.
"use strict";

(function () {
  const live = document.getElementById("live");
  const notice = document.getElementById("live-notice");

  function pad(n) { return String(n).padStart(2, "0"); }

  // The server writes UTC; people read their own clock. The UTC text stays as the tooltip.
  function localise(root) {
    for (const time of root.querySelectorAll("time[datetime]")) {
      const at = new Date(time.getAttribute("datetime"));
      if (isNaN(at.getTime()) || time.dataset.local) continue;
      time.title = time.textContent;
      time.textContent = at.getFullYear() + "-" + pad(at.getMonth() + 1) + "-" + pad(at.getDate()) +
        " " + pad(at.getHours()) + ":" + pad(at.getMinutes()) + ":" + pad(at.getSeconds());
      time.dataset.local = "1";
    }
  }

  localise(document);

  function say(text) {
    if (!notice) return;
    notice.textContent = text;
    notice.hidden = !text;
  }

  // The server renders the fragment; the script only swaps it in, so there is one template.
  async function refresh() {
    try {
      // A lapsed session answers with a redirect to sign-in; treat that as an error.
      const response = await fetch(live.dataset.src, { cache: "no-store", redirect: "error" });
      if (!response.ok) throw new Error("HTTP " + response.status);
      const html = await response.text();
      if (html !== live.dataset.last) swap(html);
      say("");
    } catch (error) {
      say("Live updates have stopped: the portal cannot be reached, or you were signed out. " +
          "Reload the page.");
    } finally {
      setTimeout(refresh, 1000);
    }
  }

  function swap(html) {
    // Keep keyboard users where they were: refocus the control with the same id.
    const focused = live.contains(document.activeElement) ? document.activeElement.id : "";
    live.innerHTML = html;
    live.dataset.last = html;
    localise(live);
    if (focused) {
      const again = document.getElementById(focused);
      if (again) again.focus();
    }
  }

  if (live) setTimeout(refresh, 1000);

  // Delegated, because the buttons are replaced with every swap.
  document.addEventListener("click", async function (event) {
    const button = event.target.closest("button[data-copy]");
    if (!button) return;
    const label = button.textContent;
    try {
      await navigator.clipboard.writeText(button.dataset.copy);
      button.textContent = "Copied";
    } catch (error) {
      // No clipboard (plain http to another host): let the person copy it by hand.
      window.prompt("Copy the link:", button.dataset.copy);
    }
    setTimeout(function () { button.textContent = label; }, 1500);
  });

  document.addEventListener("submit", function (event) {
    const question = event.target.dataset.confirm;
    if (question && !window.confirm(question)) event.preventDefault();
  });
})();
