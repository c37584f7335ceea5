/* The service's own pages: buttons marked data-faq-ask open the chat widget with their question,
 * and /?ask=… opens it on arrival. Without scripts the same buttons are links to /?ask=…. */
(function () {
  "use strict";

  function widgetReady(callback, triesLeft) {
    if (window.FAQWidget && typeof window.FAQWidget.open === "function") return callback(window.FAQWidget);
    if (triesLeft > 0) setTimeout(function () { widgetReady(callback, triesLeft - 1); }, 50);
  }

  document.addEventListener("click", function (event) {
    var target = event.target && event.target.closest ? event.target.closest("[data-faq-ask]") : null;
    if (!target || !window.FAQWidget) return;
    event.preventDefault();
    window.FAQWidget.open({ question: target.getAttribute("data-faq-ask"), send: true });
  });

  var asked = new URLSearchParams(window.location.search).get("ask");
  if (asked) widgetReady(function (widget) { widget.open({ question: asked }); }, 100);
})();
