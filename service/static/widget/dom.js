/* DOM helpers of the widget: elements with text only, and its icons. Part of the /widget.js bundle. */
var SVG_NS = "http://www.w3.org/2000/svg";

function el(tag, cls, text) {
  var node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text != null) node.textContent = String(text);
  return node;
}

function icon(paths) {
  var svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  paths.forEach(function (d) {
    var p = document.createElementNS(SVG_NS, "path");
    p.setAttribute("d", d);
    svg.appendChild(p);
  });
  return svg;
}

var ICONS = {
  chat: ["M21 12a8 8 0 0 1-11.6 7.1L4 20.5l1.4-4.9A8 8 0 1 1 21 12z", "M8.5 12h.01M12 12h.01M15.5 12h.01"],
  close: ["M6 6l12 12", "M18 6L6 18"],
  send: ["M4 12l16-8-6 16-2.5-6.5z", "M11.5 13.5L20 4"],
  up: ["M7 10v10H4V10z", "M7 10l4-7a2 2 0 0 1 3 2l-1 4h5a2 2 0 0 1 2 2.3l-1.3 7A2 2 0 0 1 16.7 20H7"],
  down: ["M7 14V4H4v10z", "M7 14l4 7a2 2 0 0 0 3-2l-1-4h5a2 2 0 0 0 2-2.3l-1.3-7A2 2 0 0 0 16.7 4H7"],
  bot: ["M12 3v3", "M5 8h14v10a2 2 0 0 1-2 2H7a2 2 0 0 1-2-2z", "M9 13h.01M15 13h.01"]
};


/** Put `text` on the clipboard (the async API where the page is a secure context, else a hidden textarea). */
function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
  return new Promise(function (resolve, reject) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(area);
    if (ok) resolve(); else reject(new Error("copy"));
  });
}


/** A button that copies `text`, saying `copied` for two seconds. */
function copyButton(text, label, copied) {
  var button = el("button", "copy", label);
  button.type = "button";
  button.addEventListener("click", function () {
    copyText(text).then(function () {
      button.textContent = copied;
      setTimeout(function () { button.textContent = label; }, 2000);
    }, function () { /* the text stays selectable in the bubble */ });
  });
  return button;
}
