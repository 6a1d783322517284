// Small behaviours the server cannot do: the sidebar drawer, dismissible flashes,
// a toast for failed HTMX requests, and confirmation dialogs.
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
      el.classList.add("drawer-open");
    } else if (target.hasAttribute("data-sidebar-close") && el) {
      el.classList.remove("drawer-open");
    } else if (target.hasAttribute("data-dismiss")) {
      target.parentElement.remove();
    }
  });

  document.addEventListener("keydown", function (event) {
    var el = shell();
    if (event.key === "Escape" && el) el.classList.remove("drawer-open");
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

  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr.status;
    var messages = {
      400: "The request was refused. Reload the page and try again.",
      403: "You are not allowed to do that.",
      404: "That no longer exists. Reload the page.",
      429: "Too many requests. Wait a moment and try again.",
    };
    toast(messages[status] || "Something went wrong (" + status + "). Try again.");
  });
  document.addEventListener("htmx:sendError", function () {
    toast("Cannot reach the server. Check your connection and try again.");
  });
})();
