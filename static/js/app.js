// Keep the page quiet when htmx swaps in an error fragment: show the server's message.
document.addEventListener("htmx:responseError", function (event) {
  var target = document.getElementById("panel") || document.body;
  var box = document.createElement("p");
  box.className = "flash error";
  box.setAttribute("role", "alert");
  box.textContent = event.detail.xhr.responseText && event.detail.xhr.status < 500
    ? event.detail.xhr.responseText.replace(/<[^>]*>/g, "").trim().slice(0, 300)
    : "Something went wrong.";
  target.prepend(box);
});
