// Small behaviours the server cannot do: the sidebar drawer, dismissible flashes,
// a toast for failed HTMX requests, confirmation dialogs, and the browser's time zone.
(function () {
  "use strict";

  function shell() { return document.querySelector("[data-shell]"); }

  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-sidebar-collapse],[data-sidebar-open],[data-sidebar-close],[data-dismiss]");
    if (!target) return;
    var el = shell();
    if (target.hasAttribute("data-sidebar-collapse") && el) {
      el.classList.toggle("collapsed");
      localStorage.setItem("sidebar-collapsed", el.classList.contains("collapsed") ? "1" : "0");
    } else if (target.hasAttribute("data-sidebar-open") && el) {
      openDrawer(el);
    } else if (target.hasAttribute("data-sidebar-close") && el) {
      closeDrawer(el);
    } else if (target.hasAttribute("data-dismiss")) {
      target.parentElement.remove();
    }
  });

  function openDrawer(el) {
    el.classList.add("drawer-open");
    document.querySelector("[data-sidebar-open]").setAttribute("aria-expanded", "true");
    var first = el.querySelector(".sidebar a");
    if (first) setTimeout(function () { first.focus(); }, 50);
  }

  function closeDrawer(el) {
    if (!el.classList.contains("drawer-open")) return;
    el.classList.remove("drawer-open");
    var button = document.querySelector("[data-sidebar-open]");
    button.setAttribute("aria-expanded", "false");
    button.focus();
  }

  document.addEventListener("keydown", function (event) {
    var el = shell();
    if (event.key === "Escape" && el) closeDrawer(el);
  });

  document.addEventListener("DOMContentLoaded", function () {
    var el = shell();
    if (el && localStorage.getItem("sidebar-collapsed") === "1") el.classList.add("collapsed");
  });

  function toast(message) {
    var box = document.getElementById("toast");
    if (!box) return;
    box.textContent = message;
    box.hidden = false;
    clearTimeout(box._timer);
    box._timer = setTimeout(function () { box.hidden = true; }, 6000);
  }
  window.baToast = toast;

  // The server's own words when its error fragment has them (a rate limit says which and for how long).
  function serverMessage(xhr) {
    if (!/^text\/html/.test(xhr.getResponseHeader("Content-Type") || "")) return "";
    var found = new DOMParser().parseFromString(xhr.responseText, "text/html").querySelector("[data-error-message]");
    return found ? found.textContent.trim() : "";
  }

  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr.status;
    var messages = {
      400: "The request was refused. Reload the page and try again.",
      403: "You are not allowed to do that.",
      404: "That no longer exists. Reload the page.",
      429: "Too many requests. Wait a moment and try again.",
    };
    toast(serverMessage(event.detail.xhr) || messages[status] || "Something went wrong (" + status + "). Try again.");
  });
  document.addEventListener("htmx:sendError", function () {
    toast("Cannot reach the server. Check your connection and try again.");
  });
})();

// The chat: Enter sends, drafts survive reloads and expired sessions, the view follows
// the reply, and a reconnecting stream resumes after the last event it received.
(function () {
  "use strict";

  function draftKey(form) { return form && form.getAttribute("data-draft-key"); }

  function restoreDraft() {
    var form = document.getElementById("composer");
    var key = draftKey(form);
    if (!key) return;
    var box = form.querySelector("textarea");
    var saved = localStorage.getItem(key);
    if (saved && !box.value) box.value = saved;
  }

  function scrollToEnd() {
    var end = document.getElementById("composer");
    if (end) end.scrollIntoView({ block: "end" });
  }

  document.addEventListener("DOMContentLoaded", function () {
    // Side panels start folded on narrow screens, where they would push the conversation down.
    if (window.matchMedia("(max-width: 1000px)").matches) {
      document.querySelectorAll("details[data-collapse-narrow]").forEach(function (d) { d.open = false; });
    }
    restoreDraft();
    if (document.getElementById("messages") && !location.hash) scrollToEnd();
    sendTimezone();
  });

  // A signed-in user with no time zone yet gets the browser's, once; the settings page can change it.
  function sendTimezone() {
    var root = document.documentElement;
    var zone = window.Intl && Intl.DateTimeFormat().resolvedOptions().timeZone;
    // A zone the server turned down is not offered again from this browser.
    if (!root.hasAttribute("data-timezone-unknown") || !zone || localStorage.getItem("timezone-refused") === zone) return;
    var headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
    headers["Content-Type"] = "application/x-www-form-urlencoded";
    fetch(root.getAttribute("data-timezone-url"), {
      method: "POST", headers: headers, credentials: "same-origin", body: "timezone=" + encodeURIComponent(zone),
    }).then(function (response) {
      if (response.status === 409) localStorage.setItem("timezone-refused", zone);
    }).catch(function () { /* offline: the next page tries again */ });
    root.removeAttribute("data-timezone-unknown");
  }

  document.addEventListener("input", function (event) {
    var form = event.target.closest("form[data-draft-key]");
    if (form) localStorage.setItem(draftKey(form), event.target.value);
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    var box = event.target;
    if (!box.matches || !box.matches("#composer textarea")) return;
    event.preventDefault();
    if (box.value.trim()) box.form.requestSubmit();
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (!form.matches || !form.matches("#composer") || !event.detail.successful) return;
    localStorage.removeItem(draftKey(form));
    form.querySelector("textarea").value = "";
    document.getElementById("composer-error").innerHTML = "";
    scrollToEnd();
  });

  document.addEventListener("htmx:sseMessage", function (event) {
    var id = event.detail && event.detail.lastEventId;
    var source = event.target.closest("[sse-connect]");
    if (!id || !source) return;
    var url = new URL(source.getAttribute("sse-connect"), location.href);
    url.searchParams.set("after", id);
    source.setAttribute("sse-connect", url.pathname + url.search);
    var composer = document.getElementById("composer");
    if (composer && composer.getBoundingClientRect().top < window.innerHeight + 200) scrollToEnd();
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var source = button.closest(".message").querySelector("[data-copy-source]");
    if (!source || !navigator.clipboard) return;
    navigator.clipboard.writeText(source.innerText).then(function () {
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = "Copy"; }, 1500);
    });
  });
})();
