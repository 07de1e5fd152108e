// The booking panel (issue 23): a modal dialog (templates/scheduling/_panel.html) into which htmx swaps a
// booking form or a booking's panel (#panel). It opens where the user is looking, with the focus on its
// first field (a form) or its heading; Escape or its Close button closes it, releasing the form's slot hold,
// and gives the focus back to the slot or booking that opened it.
var MedBook = window.MedBook = {};
var opener = null;  // where the panel was opened from: {element, place}

function panelDialog() { return document.getElementById("panel-dialog"); }

// Where a slot or a booking is, to find it again once the calendars are drawn anew.
function placeOf(element) {
  var calendar = element.closest("[data-physician]");
  var of = calendar ? calendar.dataset : {};
  return {start: element.dataset.start, booking: element.dataset.booking, physician: of.physician,
          service: of.service, location: of.location};
}

// The slot or booking shown now at `place` (its own calendar first, as several may show the same time).
function slotAt(place) {
  if (!place || !(place.start || place.booking)) return null;
  var best = null, bestScore = 0;
  document.querySelectorAll(".slot[data-start], .agenda-entry[data-start]").forEach(function (candidate) {
    if (candidate.offsetParent === null || candidate.closest("dialog")) return;  // hidden, or in the panel
    var here = placeOf(candidate);
    var score = (place.booking && here.booking === place.booking ? 16 : 0) + (here.start === place.start ? 8 : 0);
    if (!score) return;
    score += (here.physician === place.physician ? 4 : 0) + (here.service === place.service ? 2 : 0) +
      (here.location === place.location ? 1 : 0);
    if (score > bestScore) { best = candidate; bestScore = score; }
  });
  return best;
}

function focusSlot(place) {
  var slot = slotAt(place);
  if (!slot) return false;
  var calendar = slot.closest(GROUPS);
  if (calendar) rove(calendar, slot);
  slot.focus();
  return document.activeElement === slot;
}

// Into the open panel: what the user acts on first (an error summary or a refusal, the form's first field,
// the heading).
function panelFocus(dialog) {
  var panel = dialog.querySelector("#panel");
  var first = dialog.querySelector(".panel-messages .flash") || panel.querySelector("[autofocus], [role=alert]");
  if (!first && panel.querySelector("#booking-form")) {
    first = Array.prototype.filter.call(
      panel.querySelectorAll("input:not([type=hidden]), select, textarea"),
      function (field) { return !field.disabled && field.offsetParent !== null; })[0];
  }
  first = first || panel.querySelector("h2") || panel;
  if (first.tabIndex < 0 && !first.hasAttribute("tabindex")) first.setAttribute("tabindex", "-1");
  first.focus();
}

// Open the dialog if its panel holds something, close it if not; the messages of the answer (`flashes`)
// are announced in the open dialog, or pinned to the viewport when it closes.
function panelSync(flashes) {
  var dialog = panelDialog();
  var panel = dialog && dialog.querySelector("#panel");
  if (!panel || !panel.innerHTML.trim()) {
    if (dialog && dialog.open) dialog.close();
    if (flashes) announce(flashes);
    return false;
  }
  var heading = panel.querySelector("h2");
  if (heading) {
    heading.id = heading.id || "panel-heading";
    dialog.setAttribute("aria-labelledby", heading.id);
  }
  if (!dialog.matches(":modal")) {
    dialog.removeAttribute("open");  // drawn open by the server (as it shows without JavaScript): made modal
    dialog.showModal();
    document.getElementById("announcer").textContent = "";
  }
  if (flashes) announce(flashes);
  panelFocus(dialog);
  return true;
}
MedBook.panelSync = panelSync;

document.addEventListener("htmx:beforeRequest", function (event) {
  var target = event.detail.target;
  var dialog = panelDialog();
  if (target && target.id === "panel" && !(dialog && dialog.open)) {
    opener = {element: event.detail.elt, place: placeOf(event.detail.elt)};
  }
});

// Closed by Escape, by its Close button or emptied: the form's hold is released and the focus goes back.
document.addEventListener("close", function (event) {
  var dialog = event.target;
  if (dialog.id !== "panel-dialog") return;
  releaseHold(null);
  dialog.querySelector("#panel").innerHTML = "";
  dialog.querySelector(".panel-messages").textContent = "";
  if (!opener) return;
  if (opener.element.isConnected && opener.element.offsetParent !== null) opener.element.focus();
  else focusSlot(opener.place);
}, true);

// Messages (Booked, Moved, Deleted, Recorded …) where the user looks: in the open panel, or in the live
// region pinned to the viewport (templates/base.html). A message's own form (the "Undo" after a move or a
// cancellation) is handed to htmx again in its new place, so it posts with the page's filters as before.
function announce(flashes) {
  var dialog = panelDialog();
  var region = dialog && dialog.open ? dialog.querySelector(".panel-messages") : document.getElementById("announcer");
  if (!region) return;
  region.textContent = "";
  Array.prototype.forEach.call(flashes, function (flash) {
    var copy = document.importNode(flash, true);
    copy.removeAttribute("role");  // the region itself is the live one
    region.appendChild(copy);
    htmx.process(copy);
    if (flash.isConnected) flash.remove();
  });
}
MedBook.announce = announce;
document.addEventListener("click", function (event) {
  if (event.target.closest && event.target.closest("[data-announcer-close]")) {
    document.getElementById("announcer").textContent = "";
  }
});

// Keep the page quiet when htmx swaps in an error fragment: show the server's message.
document.addEventListener("htmx:responseError", function (event) {
  var dialog = panelDialog();
  var box = document.createElement("p");
  box.className = "flash error";
  box.textContent = event.detail.xhr.responseText && event.detail.xhr.status < 500
    ? event.detail.xhr.responseText.replace(/<[^>]*>/g, "").trim().slice(0, 300)
    : document.body.dataset.errorMessage;
  if (dialog && dialog.open) {
    box.setAttribute("role", "alert");
    dialog.querySelector("#panel").prepend(box);
  } else {
    announce([box]);
  }
});

// Keyboard on the calendars: each calendar is one Tab stop (a roving tabindex); the arrow keys move across
// every cell, Busy ones included (up/down in a day, left/right to the nearest time of the next day with
// any), Home and End to the first and last of the day. A booking panel's free times to move to are one Tab
// stop too, a row a day (left/right in a day, up/down to the nearest time of the next day).
var GROUPS = ".calendar, .move-slots";
var CELLS = ".calendar .day .slot, .move-slots .move-day .slot";
function cellsOf(group) { return group.querySelectorAll(".day .slot, .move-day .slot"); }
function rove(group, current) {
  cellsOf(group).forEach(function (cell) { cell.tabIndex = cell === current ? 0 : -1; });
}
function minutes(cell) {
  var time = (cell.dataset.start || cell.value || "").slice(11, 16).split(":");
  return Number(time[0]) * 60 + Number(time[1]);
}
htmx.onLoad(function (root) {
  var groups = root.matches && root.matches(GROUPS) ? [root] : root.querySelectorAll(GROUPS);
  Array.prototype.forEach.call(groups, function (group) {
    rove(group, group.querySelector(".day .slot.free") || cellsOf(group)[0]);
  });
});
document.addEventListener("focusin", function (event) {
  var cell = event.target.closest && event.target.closest(CELLS);
  if (cell && cell.tabIndex !== 0) rove(cell.closest(GROUPS), cell);
});
document.addEventListener("keydown", function (event) {
  var cell = event.target.closest && event.target.closest(CELLS);
  if (!cell || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
  var group = cell.closest(GROUPS);
  var rows = group.matches(".move-slots");  // its days are rows: left/right within one
  var within = rows ? ["ArrowLeft", "ArrowRight"] : ["ArrowUp", "ArrowDown"];
  var across = rows ? ["ArrowUp", "ArrowDown"] : ["ArrowLeft", "ArrowRight"];
  var day = cell.closest(".day, .move-day");
  var inDay = Array.prototype.slice.call(day.querySelectorAll(".slot"));
  var index = inDay.indexOf(cell);
  var next = null;
  if (event.key === within[0]) next = inDay[index - 1];
  if (event.key === within[1]) next = inDay[index + 1];
  if (event.key === "Home") next = inDay[0];
  if (event.key === "End") next = inDay[inDay.length - 1];
  if (across.indexOf(event.key) >= 0) {
    var days = Array.prototype.slice.call(group.querySelectorAll(".day, .move-day"));
    var step = event.key === across[0] ? -1 : 1;
    for (var i = days.indexOf(day) + step; i >= 0 && i < days.length && !next; i += step) {
      Array.prototype.forEach.call(days[i].querySelectorAll(".slot"), function (other) {
        if (!next || Math.abs(minutes(other) - minutes(cell)) < Math.abs(minutes(next) - minutes(cell))) next = other;
      });
    }
  }
  if (next) { event.preventDefault(); rove(group, next); next.focus(); }
});

// After an answer in the panel: the dialog opens or closes. After the calendars are drawn again: their
// messages are announced; the focus goes to the slot booked, moved to or freed (data-focus-start), back to
// the link pressed (another week or page), or to the calendars' first heading ("Show calendars").
document.addEventListener("htmx:afterSettle", function (event) {
  var target = event.detail.target;
  if (!target) return;
  if (target.id === "panel") { panelSync(); return; }
  if (target.id !== "workspace") return;
  if (panelSync(target.querySelectorAll(":scope > .flash"))) return;
  var mark = target.querySelector("[data-focus-start]");
  if (mark) {
    var data = mark.dataset;
    if (focusSlot({start: data.focusStart, physician: data.focusPhysician,
                   service: data.focusService, location: data.focusLocation})) return;
  }
  var trigger = event.detail.requestConfig && event.detail.requestConfig.elt;
  var href = trigger && trigger.getAttribute && trigger.getAttribute("href");
  var again = href && target.querySelector('a[href="' + CSS.escape(href) + '"]');
  var result = again || target.querySelector(
    ".errorlist, [data-testid=calendar-count], .physician-calendar h2, #calendars > .muted");
  if (!result) return;
  if (!again && !result.hasAttribute("tabindex")) result.setAttribute("tabindex", "-1");
  result.focus();
});

// A booking form opened from a calendar holds its slot (issue 21). When the form leaves the panel other
// than by its own buttons (the panel closed, another week or calendar shown, the page left), its hold is
// released at once rather than left to expire. Releasing a booked or released hold is harmless.
function releaseHold(except) {
  var form = document.querySelector("#panel #booking-form[data-release-url]");
  var hold = form && form.querySelector("[name=hold]");
  if (!hold || !hold.value || (except && form.contains(except))) return;
  var body = new FormData();
  body.append("hold", hold.value);
  body.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
  hold.value = "";
  fetch(form.dataset.releaseUrl, {method: "POST", body: body, credentials: "same-origin", keepalive: true});
}
document.addEventListener("htmx:beforeSwap", function (event) {
  var target = event.detail.target;
  if (!event.detail.shouldSwap || !target) return;
  if (target.id === "panel" || target.id === "workspace") releaseHold(event.detail.requestConfig.elt);
  var messages = target.id === "panel" && target.parentElement.querySelector(".panel-messages");
  if (messages) messages.textContent = "";
});
window.addEventListener("pagehide", function () { releaseHold(null); });

// A panel the server drew open (a change made without htmx) opens as the dialog once the page is loaded.
document.addEventListener("DOMContentLoaded", function () {
  var dialog = panelDialog();
  if (dialog && dialog.open) panelSync();
});

// "Commission agreement": the percentage and amount fields show only when it is "Yes".
function syncCommission() {
  var chosen = document.querySelector("[name=commission_enabled]:checked, select[name=commission_enabled]");
  if (!chosen) return;
  var on = chosen.value === "True";
  ["commission_percent", "commission_fixed"].forEach(function (name) {
    var input = document.querySelector("[name=" + name + "]");
    var field = input && input.closest(".field");
    if (field) field.hidden = !on;
  });
}
document.addEventListener("change", function (event) {
  if (event.target.name === "commission_enabled") syncCommission();
});
document.addEventListener("DOMContentLoaded", syncCommission);
