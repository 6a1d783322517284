// Small behaviours the server cannot do: the sidebar drawer, dismissible flashes, a toast for
// failed HTMX requests, the browser's time zone, keyboard shortcuts, and Copy buttons.
document.documentElement.classList.add("js");

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
    if (!el.classList.contains("drawer-open")) return false;
    el.classList.remove("drawer-open");
    var button = document.querySelector("[data-sidebar-open]");
    button.setAttribute("aria-expanded", "false");
    button.focus();
    return true;
  }

  document.addEventListener("keydown", function (event) {
    var el = shell();
    // Handled here, so that the chat does not also take this Escape as "stop the reply".
    if (event.key === "Escape" && el && closeDrawer(el)) event.preventDefault();
  });

  document.addEventListener("DOMContentLoaded", function () {
    var el = shell();
    if (el && localStorage.getItem("sidebar-collapsed") === "1") el.classList.add("collapsed");
    sendTimezone();
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
      401: "Your session ended. Reload the page to log in again.",
      403: "You are not allowed to do that.",
      404: "That no longer exists. Reload the page.",
      429: "Too many requests. Wait a moment and try again.",
    };
    toast(serverMessage(event.detail.xhr) || messages[status] || "Something went wrong (" + status + "). Try again.");
  });
  document.addEventListener("htmx:sendError", function (event) {
    if (event.detail.elt.closest("[data-chat-action]")) return;  // the composer says it in its own words
    toast("Cannot reach the server. Check your connection and try again.");
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
})();

// Keyboard shortcuts: Ctrl+Shift+O (⌘+Shift+O on a Mac) starts a new chat, and ? lists them all.
(function () {
  "use strict";

  function typing(target) {
    return target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
  }

  function showShortcuts() {
    var dialog = document.getElementById("shortcuts");
    if (dialog && !dialog.open) dialog.showModal();
  }

  document.addEventListener("keydown", function (event) {
    if ((event.ctrlKey || event.metaKey) && event.shiftKey && event.key.toLowerCase() === "o") {
      var form = document.querySelector("form[data-new-chat]");
      if (!form) return;
      event.preventDefault();
      form.requestSubmit();
    } else if (event.key === "?" && !typing(event.target) && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      showShortcuts();
    }
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-shortcuts-open]")) showShortcuts();
  });
})();

// Copy: a message copies as its Markdown (with the rendered HTML alongside, for rich editors);
// a code block copies its code.
(function () {
  "use strict";

  function fallbackCopy(text) {
    // Plain-http pages have no Clipboard API.
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    document.body.appendChild(area);
    area.select();
    var copied = document.execCommand("copy");
    area.remove();
    return copied ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  function copy(text, html) {
    if (!navigator.clipboard) return fallbackCopy(text);
    if (html && window.ClipboardItem) {
      var item = new ClipboardItem({
        "text/plain": new Blob([text], { type: "text/plain" }),
        "text/html": new Blob([html], { type: "text/html" }),
      });
      return navigator.clipboard.write([item]).catch(function () { return navigator.clipboard.writeText(text); });
    }
    return navigator.clipboard.writeText(text);
  }

  function done(button) {
    var label = button.textContent;
    button.textContent = "Copied";
    setTimeout(function () { button.textContent = label; }, 1500);
  }

  function renderedHtml(prose) {
    var clone = prose.cloneNode(true);
    clone.querySelectorAll(".code-head").forEach(function (head) { head.remove(); });
    return clone.innerHTML;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy], .code-copy");
    if (!button) return;
    var text, html;
    if (button.classList.contains("code-copy")) {
      text = button.closest(".code-block").querySelector("pre").textContent;
    } else {
      var message = button.closest(".message");
      var source = message.querySelector("[data-copy-source]");
      var prose = message.querySelector(".prose");
      text = source.content ? source.content.textContent : source.textContent;
      html = prose && renderedHtml(prose);
    }
    copy(text, html).then(function () { done(button); }, function () {
      window.baToast("The browser did not allow copying. Select the text and copy it instead.");
    });
  });
})();
