/* Safe Markdown for answers: paragraphs, "-"/"*"/"1." lists, **bold**, and http(s) URLs as links.
 * Nothing else is interpreted. Builds DOM nodes only (createElement / createTextNode): no innerHTML. */
var FAQMarkdown = (function () {
  "use strict";

  var URL_RE = /https?:\/\/[^\s<>"'，。；、）)]+/g;
  var BULLET_RE = /^\s*[-*•]\s+(.*)$/;
  var NUMBER_RE = /^\s*\d{1,3}[.)、]\s+(.*)$/;

  /** Append `text` to `parent` with **bold** and http(s) links as nodes, everything else as text. */
  function inline(parent, text) {
    var parts = String(text).split(/\*\*(?=\S)([^*]*\S)\*\*/);
    parts.forEach(function (part, i) {
      var target = parent;
      if (i % 2 === 1) {
        target = document.createElement("strong");
        parent.appendChild(target);
      }
      links(target, part);
    });
  }

  function links(parent, text) {
    var last = 0;
    text.replace(URL_RE, function (url, offset) {
      if (offset > last) parent.appendChild(document.createTextNode(text.slice(last, offset)));
      var a = document.createElement("a");
      a.href = url;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      a.textContent = url;
      parent.appendChild(a);
      last = offset + url.length;
      return url;
    });
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  /** Render `text` into `parent` as paragraphs and lists. */
  function render(parent, text) {
    var list = null;
    var listKind = null;
    var paragraph = null;
    String(text || "").split(/\r?\n/).forEach(function (line) {
      var bullet = BULLET_RE.exec(line);
      var number = bullet ? null : NUMBER_RE.exec(line);
      if (bullet || number) {
        var kind = bullet ? "ul" : "ol";
        if (!list || listKind !== kind) {
          list = document.createElement(kind);
          listKind = kind;
          parent.appendChild(list);
        }
        var item = document.createElement("li");
        inline(item, (bullet || number)[1]);
        list.appendChild(item);
        paragraph = null;
        return;
      }
      list = null;
      if (!line.trim()) {
        paragraph = null;
        return;
      }
      if (paragraph) paragraph.appendChild(document.createElement("br"));
      else {
        paragraph = document.createElement("p");
        parent.appendChild(paragraph);
      }
      inline(paragraph, line);
    });
  }

  return { render: render };
})();
