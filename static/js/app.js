// Keep the page quiet when htmx swaps in an error fragment: show the server's message.
document.addEventListener("htmx:responseError", function (event) {
  var target = document.getElementById("panel") || document.body;
  var box = document.createElement("p");
  box.className = "flash error";
  box.setAttribute("role", "alert");
  box.textContent = event.detail.xhr.responseText && event.detail.xhr.status < 500
    ? event.detail.xhr.responseText.replace(/<[^>]*>/g, "").trim().slice(0, 300)
    : document.body.dataset.errorMessage;
  target.prepend(box);
});

// Keyboard on the calendars: arrow keys move between slots (up/down in a day, left/right across days).
document.addEventListener("keydown", function (event) {
  var slot = event.target.closest && event.target.closest(".calendar .slot");
  if (!slot || ["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight"].indexOf(event.key) < 0) return;
  var day = slot.closest(".day");
  var inDay = Array.prototype.slice.call(day.querySelectorAll(".slot"));
  var index = inDay.indexOf(slot);
  var next = null;
  if (event.key === "ArrowUp") next = inDay[index - 1];
  if (event.key === "ArrowDown") next = inDay[index + 1];
  if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
    var days = Array.prototype.slice.call(day.parentElement.querySelectorAll(".day"));
    var step = event.key === "ArrowLeft" ? -1 : 1;
    for (var i = days.indexOf(day) + step; i >= 0 && i < days.length && !next; i += step) {
      var slots = days[i].querySelectorAll(".slot");
      if (slots.length) next = slots[Math.min(index, slots.length - 1)];
    }
  }
  if (next) { event.preventDefault(); next.focus(); }
});

// After a booking the focus returns to the booked slot (a form opened in the panel focuses its heading).
document.addEventListener("htmx:afterSettle", function (event) {
  var target = event.detail.target;
  if (target && target.id === "panel") return;  // the opened form focuses itself (autofocus)
  var focus = document.querySelector("[data-focus-start]");
  if (focus) {
    var booked = document.querySelector('.slot[data-start="' + focus.dataset.focusStart + '"]');
    if (booked) booked.focus();
  }
});

// A booking form opened from a calendar holds its slot (issue 21). When the form leaves the panel other
// than by its own buttons (another slot or booking opened, another week or calendar shown, the page left),
// its hold is released at once rather than left to expire. Releasing a booked or released hold is harmless.
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
});
window.addEventListener("pagehide", function () { releaseHold(null); });

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
