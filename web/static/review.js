// review.js refreshes the reviewer's queue every 30 seconds without a full
// reload, while the tab is visible. It is an enhancement only: without it
// the queue's Refresh link reloads the page. It fetches the same rows the
// page shows, from the same origin, and stops when the session has ended.
(function () {
  "use strict";

  var box = document.getElementById("queue-rows");
  if (!box || !box.getAttribute("data-src") || !window.fetch) {
    return;
  }
  var src = box.getAttribute("data-src");
  var every = 30000;
  var timer = null;

  function refresh() {
    if (document.visibilityState === "hidden") {
      return;
    }
    window.fetch(src, { credentials: "same-origin", redirect: "manual", headers: { "Accept": "text/html" } })
      .then(function (res) {
        if (!res.ok) {
          // Signed out, or the session expired: a reload shows why.
          window.clearInterval(timer);
          return null;
        }
        return res.text();
      })
      .then(function (html) {
        if (html !== null) {
          box.innerHTML = html; // rendered and escaped by the server's templates
        }
      })
      .catch(function () { /* offline for a moment: the next tick tries again */ });
  }

  timer = window.setInterval(refresh, every);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") {
      refresh();
    }
  });
}());
