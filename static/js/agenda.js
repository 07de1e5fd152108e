// The day agenda (templates/scheduling/agenda.html). Its booking panel is the week calendar's: after a
// booking, a move, a cancellation, its undo or an attendance recorded there, the desk's views answer with
// the week calendar's workspace (retargeted to #workspace). Here the agenda keeps its page instead: the panel
// shows what the answer's panel holds (empty after a booking: the dialog closes), the answer's messages are
// announced where the user looks (static/js/app.js), and the day is drawn again with the booking focused.
// An answer for the panel itself (a move's confirmation) is swapped in as htmx does on the week calendar.
(function () {
  var focusStart = null;

  function agendaPage() { return document.getElementById("agenda-body"); }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt.closest && event.detail.elt.closest("#panel form");
    if (!agendaPage() || !form) return;
    var start = form.querySelector("[name=starts_at]:checked, input[type=hidden][name=starts_at]");
    var submitter = event.detail.requestConfig && event.detail.requestConfig.triggeringEvent &&
      event.detail.requestConfig.triggeringEvent.submitter;
    focusStart = (submitter && submitter.name === "starts_at" && submitter.value) || (start && start.value) || null;
  });

  // Before htmx reads the answer's headers (its HX-Retarget names the week calendar's #workspace).
  document.addEventListener("htmx:beforeOnLoad", function (event) {
    var body = agendaPage();
    var config = event.detail.requestConfig;
    var xhr = event.detail.xhr;
    if (!body || !config || config.verb !== "post" || xhr.status !== 200) return;
    if (xhr.getResponseHeader("HX-Retarget") !== "#workspace") return;
    event.preventDefault();
    var answer = new DOMParser().parseFromString(xhr.responseText, "text/html");
    var panel = document.getElementById("panel");
    var shown = answer.getElementById("panel");
    panel.innerHTML = shown ? shown.innerHTML : "";
    if (shown) htmx.process(panel);
    document.getElementById("agenda-messages").textContent = "";
    window.MedBook.panelSync(answer.body.querySelectorAll(":scope > .flash"));
    htmx.ajax("GET", body.dataset.refresh, { target: "#agenda-body", swap: "innerHTML" }).then(function () {
      var booked = focusStart && body.querySelector('.agenda-entry[data-start="' + focusStart + '"]');
      var visible = booked && Array.prototype.filter.call(
        body.querySelectorAll('.agenda-entry[data-start="' + focusStart + '"]'),
        function (entry) { return entry.offsetParent !== null; })[0];
      if (visible) visible.focus();
      focusStart = null;
    });
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-print]")) window.print();
  });
})();
