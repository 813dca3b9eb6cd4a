/* Live updates of a process page (see relevo/web/pages/live.py).
 *
 * While the page is visible, ask the server every ~20 s whether anything changed, sending
 * back the ETag it last gave (a 304 costs almost nothing). When something changed, swap in
 * each changed part of the page, except a part holding the focus or a half-filled form
 * (it is swapped on a later check), and announce it in the polite live region. Never moves
 * the focus; keeps the reading position. Without this script the page works, it just does
 * not update by itself.
 */
(function () {
  "use strict";
  var root = document.getElementById("live");
  if (!root || !window.fetch || !window.DOMParser || !root.getAttribute("data-live")) {
    return;
  }
  var url = root.getAttribute("data-live");
  var note = document.getElementById("live-note");
  var EVERY = 20000;
  var LONGEST = 300000;
  var delay = EVERY;
  var etag = null;
  var timer = null;
  var stopped = false;
  var anchored = window.CSS && CSS.supports && CSS.supports("overflow-anchor", "auto");

  // A part where the customer has typed keeps what they typed until the page is reloaded.
  root.addEventListener("input", function (event) {
    var part = event.target.closest && event.target.closest("[data-part]");
    if (part) {
      part.setAttribute("data-dirty", "");
    }
  });

  function busy(part) {
    return part.hasAttribute("data-dirty") || part.contains(document.activeElement);
  }

  function swap(current, fresh) {
    // Browsers without scroll anchoring: keep what is on screen where it is when a part
    // above it grows or shrinks.
    var above = !anchored && current.getBoundingClientRect().bottom <= 0;
    var before = current.offsetHeight;
    current.innerHTML = fresh.innerHTML;
    if (above) {
      window.scrollBy(0, current.offsetHeight - before);
    }
  }

  function apply(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("live-parts");
    if (!fresh) {
      return;
    }
    var changed = false;
    var waiting = false;
    Array.prototype.forEach.call(fresh.querySelectorAll("[data-part]"), function (part) {
      var name = part.getAttribute("data-part");
      var current = root.querySelector('[data-part="' + name + '"]');
      if (!current || current.innerHTML === part.innerHTML) {
        return;
      }
      if (busy(current)) {
        waiting = true;
        return;
      }
      swap(current, part);
      changed = true;
    });
    if (waiting) {
      etag = null; // ask for the whole answer again next time
    }
    if (changed && note) {
      note.textContent = fresh.getAttribute("data-announce") || "";
    }
  }

  function schedule() {
    clearTimeout(timer);
    if (!stopped && !document.hidden) {
      // A little jitter, so pages opened together do not ask together.
      timer = setTimeout(check, delay * (0.9 + Math.random() * 0.2));
    }
  }

  function check() {
    var headers = { Accept: "text/html" };
    if (etag) {
      headers["If-None-Match"] = etag;
    }
    fetch(url, { headers: headers, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.status === 304) {
          delay = EVERY;
          return null;
        }
        if (response.status === 401 || response.status === 404) {
          stopped = true; // signed out or gone: the next reload says so
          return null;
        }
        if (!response.ok) {
          delay = Math.min(delay * 2, LONGEST);
          return null;
        }
        delay = EVERY;
        etag = response.headers.get("ETag");
        return response.text();
      })
      .then(
        function (html) {
          if (html) {
            apply(html);
          }
        },
        function () {
          delay = Math.min(delay * 2, LONGEST); // offline or the server is away
        }
      )
      .then(schedule);
  }

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) {
      clearTimeout(timer);
    } else if (!stopped) {
      check();
    }
  });
  schedule();
})();
