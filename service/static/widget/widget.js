/*!
 * FAQ chat widget — embed with one tag:
 *   <script src="https://faq.example.com/widget.js" data-title="在线帮助" data-lang="zh"
 *           data-position="bottom-right"></script>
 *
 * Talks to the API on the origin it was loaded from (cross-origin from the host page).
 * Renders inside a Shadow DOM so host CSS can't reach it and its CSS can't leak out.
 * Every piece of API or user text is inserted with textContent / createTextNode: never as HTML
 * (answers through FAQMarkdown, which builds nodes too). /widget.js serves texts.js, styles.js, dom.js,
 * markdown.js and this file as one script, inside one function scope.
 * Page scripts: FAQWidget.open({question, context}) opens it with a pre-filled question; `context`
 * (what the page is about) is sent as the first turn of the conversation.
 */
(function () {
  "use strict";

  if (window.__faqWidget) return; // loaded twice on one page: keep the first
  window.__faqWidget = true;

  var script = document.currentScript || (function () {
    var all = document.querySelectorAll('script[src*="widget.js"]');
    return all[all.length - 1] || null;
  })();
  if (!script) return;

  var API_ORIGIN = new URL(script.src, document.baseURI).origin;
  var LANG = (script.getAttribute("data-lang") || "zh").toLowerCase().indexOf("en") === 0 ? "en" : "zh";
  var POSITION = (script.getAttribute("data-position") || "bottom-right").toLowerCase() === "bottom-left"
    ? "bottom-left" : "bottom-right";
  var HISTORY_TURNS = 6;
  var STORED_MESSAGES = 40;
  var STORE_KEY = "faq-widget:" + API_ORIGIN + ":" + LANG;
  var TIMEOUT_MS = 30000;

  var TEXT = FAQ_TEXTS[LANG];
  var TITLE = script.getAttribute("data-title") || TEXT.title;


  /** A citation URL usable as a link: http(s) (relative paths resolve against the API origin), else null. */
  function safeHref(url) {
    if (typeof url !== "string" || !url.trim()) return null;
    var parsed;
    try {
      parsed = new URL(url.trim(), API_ORIGIN + "/");
    } catch (e) {
      return null;
    }
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  }

  // ---- build the UI -----------------------------------------------------------------------

  var host = document.createElement("faq-chat-widget");
  host.setAttribute("data-faq-widget", "");
  var root = host.attachShadow({ mode: "open" });
  var style = document.createElement("style");
  style.textContent = FAQ_CSS;
  root.appendChild(style);

  var side = POSITION === "bottom-left" ? "left" : "right";
  var uid = "faqw-" + Math.random().toString(36).slice(2, 8);

  var launcher = el("button", "launcher " + side);
  launcher.type = "button";
  launcher.setAttribute("aria-label", TEXT.open);
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("aria-controls", uid + "-panel");
  launcher.setAttribute("aria-haspopup", "dialog");
  var chatIcon = icon(ICONS.chat);
  var closeIcon = icon(ICONS.close);
  closeIcon.style.display = "none";
  launcher.appendChild(chatIcon);
  launcher.appendChild(closeIcon);

  var panel = el("div", "panel " + side);
  panel.id = uid + "-panel";
  panel.hidden = true;
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-modal", "true"); // focus stays inside while it is open
  panel.setAttribute("aria-labelledby", uid + "-title");

  var header = el("div", "header");
  var avatar = el("div", "avatar");
  avatar.appendChild(icon(ICONS.bot));
  var heading = el("div", "heading");
  var titleEl = el("h2", "title", TITLE);
  titleEl.id = uid + "-title";
  heading.appendChild(titleEl);
  heading.appendChild(el("p", "subtitle", TEXT.subtitle));
  var closeBtn = el("button", "close");
  closeBtn.type = "button";
  closeBtn.setAttribute("aria-label", TEXT.close);
  closeBtn.appendChild(icon(ICONS.close));
  var newChatBtn = el("button", "newchat", TEXT.newChat);
  newChatBtn.type = "button";
  header.appendChild(avatar);
  header.appendChild(heading);
  header.appendChild(newChatBtn);
  header.appendChild(closeBtn);

  var messages = el("div", "messages");
  messages.setAttribute("role", "log");
  messages.setAttribute("aria-live", "polite");
  messages.setAttribute("aria-relevant", "additions");
  messages.setAttribute("aria-label", TITLE);
  messages.tabIndex = -1;

  var form = el("form", "composer");
  form.setAttribute("novalidate", "");
  var input = el("textarea", "input");
  input.rows = 1;
  input.placeholder = TEXT.placeholder;
  input.setAttribute("aria-label", TEXT.inputLabel);
  input.setAttribute("enterkeyhint", "send");
  input.setAttribute("autocomplete", "off");
  var sendBtn = el("button", "send");
  sendBtn.type = "submit";
  sendBtn.setAttribute("aria-label", TEXT.send);
  sendBtn.title = TEXT.send;
  sendBtn.appendChild(icon(ICONS.send));
  form.appendChild(input);
  form.appendChild(sendBtn);

  var contextBar = el("p", "context");
  contextBar.hidden = true;

  panel.appendChild(header);
  panel.appendChild(messages);
  panel.appendChild(contextBar);
  panel.appendChild(form);
  panel.appendChild(el("p", "footer", TEXT.footer));
  root.appendChild(panel);
  root.appendChild(launcher);

  // ---- state --------------------------------------------------------------------------------

  var history = []; // [{question, answer}], oldest first
  var transcript = []; // what is shown, to restore it: {user: text} | {question, data, voted}
  var pageContext = ""; // FAQWidget.open({context}): sent as the conversation's first turn
  var busy = false;
  var greeted = false;

  function storage() {
    try {
      return window.sessionStorage;
    } catch (e) {
      return null; // blocked (sandboxed frame, privacy mode): the conversation lives in memory only
    }
  }

  function save() {
    var store = storage();
    if (!store) return;
    try {
      store.setItem(STORE_KEY, JSON.stringify({
        history: history, transcript: transcript.slice(-STORED_MESSAGES), context: pageContext, open: !panel.hidden
      }));
    } catch (e) { /* full: keep going without it */ }
  }

  function load() {
    var store = storage();
    var saved = null;
    try {
      saved = store && JSON.parse(store.getItem(STORE_KEY) || "null");
    } catch (e) {
      saved = null;
    }
    if (!saved || typeof saved !== "object") return false;
    history = Array.isArray(saved.history) ? saved.history.filter(function (t) {
      return t && typeof t.question === "string";
    }).slice(-HISTORY_TURNS) : [];
    setContext(typeof saved.context === "string" ? saved.context : "");
    transcript = (Array.isArray(saved.transcript) ? saved.transcript : []).filter(function (entry) {
      return entry && (typeof entry.user === "string" || (entry.data && typeof entry.data === "object"));
    });
    if (transcript.length) greet();
    transcript.forEach(function (entry) {
      if (typeof entry.user === "string") showUser(entry.user);
      else renderAnswer(String(entry.question || ""), entry.data, entry);
    });
    return saved.open === true;
  }

  function setContext(context) {
    pageContext = String(context || "").trim().slice(0, 200);
    contextBar.textContent = pageContext ? TEXT.context + pageContext : "";
    contextBar.hidden = !pageContext;
  }

  function scrollToEnd() {
    messages.scrollTop = messages.scrollHeight;
  }

  function addMessage(kind, text, label) {
    var msg = el("div", "msg " + kind);
    if (label) msg.appendChild(el("span", "sr", label + ": "));
    if (text != null) msg.appendChild(document.createTextNode(String(text)));
    messages.appendChild(msg);
    scrollToEnd();
    return msg;
  }

  function showUser(text) { addMessage("user", text, TEXT.you); }

  function greet() {
    greeted = true;
    var bubble = addMessage("bot greeting", TEXT.greeting);
    fetch(API_ORIGIN + "/api/suggested-questions?limit=4&lang=" + LANG, {
      mode: "cors", credentials: "omit", headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (data) {
      var questions = data && Array.isArray(data.questions) ? data.questions : [];
      renderChips(bubble, TEXT.suggested, questions.map(function (q) { return { title: q && q.question }; }));
    }, function () { /* no suggestions: the greeting alone */ });
  }

  function newChat() {
    history = [];
    transcript = [];
    setContext("");
    while (messages.firstChild) messages.removeChild(messages.firstChild);
    greet();
    save();
    input.focus();
  }

  function setOpen(open) {
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    launcher.setAttribute("aria-label", open ? TEXT.close : TEXT.open);
    chatIcon.style.display = open ? "none" : "";
    closeIcon.style.display = open ? "" : "none";
    if (open) {
      if (!greeted) greet();
      scrollToEnd();
      input.focus();
    }
    save();
  }

  function autoGrow() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight + 2, 120) + "px";
  }

  function setBusy(value) {
    busy = value;
    sendBtn.disabled = value;
    messages.setAttribute("aria-busy", String(value));
  }

  function showTyping() {
    var typing = el("div", "typing");
    typing.setAttribute("role", "status");
    typing.appendChild(el("span", "sr", TEXT.typing));
    for (var i = 0; i < 3; i++) {
      var dot = el("span");
      dot.setAttribute("aria-hidden", "true");
      typing.appendChild(dot);
    }
    messages.appendChild(typing);
    scrollToEnd();
    return typing;
  }

  function errorMessage(status, kind) {
    if (kind === "timeout") return TEXT.errTimeout;
    if (kind === "network") return TEXT.errNetwork;
    if (status === 429) return TEXT.errRate;
    if (status === 413) return TEXT.errTooLong;
    if (status === 422 || status === 400) return TEXT.errEmpty;
    return TEXT.errServer;
  }

  function postJSON(path, body) {
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, TIMEOUT_MS) : null;
    return fetch(API_ORIGIN + path, {
      method: "POST",
      mode: "cors",
      credentials: "omit",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body),
      signal: controller ? controller.signal : undefined
    }).then(function (response) {
      if (timer) clearTimeout(timer);
      if (!response.ok) {
        var err = new Error("HTTP " + response.status);
        err.status = response.status;
        throw err;
      }
      return response.status === 204 ? null : response.json();
    }, function (e) {
      if (timer) clearTimeout(timer);
      var err = new Error("network");
      err.kind = e && e.name === "AbortError" ? "timeout" : "network";
      throw err;
    });
  }

  // ---- rendering an answer ----------------------------------------------------------------

  function renderCitations(bubble, citations) {
    citations.forEach(function (c) {
      if (!c || typeof c !== "object") return;
      var line = el("p", "cite");
      line.appendChild(document.createTextNode(TEXT.source));
      var title = String(c.title || c.url || "");
      var href = safeHref(c.url);
      if (href) {
        var a = el("a", "ctitle-link", title);
        a.href = href;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        line.appendChild(a);
      } else {
        line.appendChild(el("span", "ctitle", title));
      }
      if (c.topic) line.appendChild(document.createTextNode(TEXT.topic + String(c.topic)));
      bubble.appendChild(line);
    });
  }

  function renderChips(bubble, label, suggestions) {
    var items = (suggestions || []).filter(function (s) { return s && s.title; });
    if (!items.length) return;
    bubble.appendChild(el("p", "chips-label", label));
    var chips = el("div", "chips");
    items.forEach(function (s) {
      var chip = el("button", "chip", String(s.title));
      chip.type = "button";
      chip.addEventListener("click", function () {
        if (busy) return;
        ask(String(s.title));
      });
      chips.appendChild(chip);
    });
    bubble.appendChild(chips);
  }

  function renderFeedback(bubble, passageId, question, entry) {
    var row = el("div", "feedback");
    var label = el("span", "feedback-label", TEXT.helpfulQ);
    label.tabIndex = -1; // takes the focus after a vote, so the keyboard stays in the widget
    var up = el("button", "vote up");
    var down = el("button", "vote down");
    var reasons = el("div", "reasons");
    reasons.hidden = true;

    function thanked(vote) {
      up.disabled = down.disabled = true;
      (vote ? up : down).setAttribute("aria-pressed", "true");
      label.textContent = TEXT.thanks;
      label.className = "feedback-label thanks";
    }

    function send(helpful, reason) {
      up.disabled = down.disabled = true;
      reasons.hidden = true;
      (helpful ? up : down).setAttribute("aria-pressed", "true");
      var body = { passage_id: passageId, question: question, helpful: helpful };
      if (reason) body.reason = reason;
      postJSON("/api/feedback", body).then(function () {
        thanked(helpful);
        if (entry) { entry.voted = helpful ? "up" : "down"; save(); }
        label.focus();
      }, function () {
        label.textContent = TEXT.feedbackFailed;
        (helpful ? up : down).setAttribute("aria-pressed", "false");
        up.disabled = down.disabled = false;
        (helpful ? up : down).focus();
      });
    }

    [[up, TEXT.helpful, ICONS.up], [down, TEXT.notHelpful, ICONS.down]].forEach(function (spec) {
      var btn = spec[0];
      btn.type = "button";
      btn.setAttribute("aria-label", spec[1]);
      btn.title = spec[1];
      btn.setAttribute("aria-pressed", "false");
      btn.appendChild(icon(spec[2]));
    });
    up.addEventListener("click", function () { send(true, null); });
    down.addEventListener("click", function () {
      up.disabled = down.disabled = true;
      down.setAttribute("aria-pressed", "true");
      reasons.hidden = false;
      reasons.querySelector("button").focus();
    });
    reasons.appendChild(el("span", "reasons-label", TEXT.whyNot));
    TEXT.reasons.concat([[null, TEXT.skipReason]]).forEach(function (choice) {
      var btn = el("button", "reason", choice[1]);
      btn.type = "button";
      if (choice[0]) btn.setAttribute("data-reason", choice[0]);
      btn.addEventListener("click", function () { send(false, choice[0]); });
      reasons.appendChild(btn);
    });
    row.appendChild(label);
    row.appendChild(up);
    row.appendChild(down);
    if (entry && entry.voted) thanked(entry.voted === "up");
    bubble.appendChild(row);
    bubble.appendChild(reasons);
  }

  /** One answer bubble; `entry` is its transcript record (kept in sessionStorage with its vote). */
  function renderAnswer(question, data, entry) {
    var answered = !!data.answered;
    var bubble = addMessage(answered ? "bot answer" : "bot answer noanswer", null, TEXT.bot);
    var citations = Array.isArray(data.citations) ? data.citations : [];
    var suggestions = Array.isArray(data.suggestions) ? data.suggestions : [];
    if (data.used_history) {
      bubble.appendChild(el("p", "note read-as",
        typeof data.read_as === "string" && data.read_as ? TEXT.readAs + data.read_as : TEXT.readWithHistory));
    }
    var cited = citations[0];
    if (answered && cited && typeof cited.lang === "string" && cited.lang !== LANG) {
      bubble.appendChild(el("p", "note other-lang", TEXT.otherLang));
    }
    var body = el("div", "body");
    FAQMarkdown.render(body, String(data.answer || ""));
    bubble.appendChild(body);
    if (answered) {
      renderCitations(bubble, citations);
      renderChips(bubble, TEXT.related, suggestions.slice(0, 3));
      var tools = el("div", "tools");
      tools.appendChild(copyButton(String(data.answer || ""), TEXT.copy, TEXT.copied));
      bubble.appendChild(tools);
      if (cited && cited.passage_id) renderFeedback(tools, String(cited.passage_id), question, entry);
    } else {
      renderChips(bubble, TEXT.tryThese, suggestions);
      var handoff = safeHref(data.handoff_url);
      if (handoff) {
        var link = el("a", "handoff", TEXT.handoff);
        link.href = handoff;
        link.target = "_blank";
        link.rel = "noopener noreferrer";
        bubble.appendChild(link);
      }
    }
    scrollToEnd();
  }

  function renderError(question, err) {
    var bubble = addMessage("error", errorMessage(err.status, err.kind));
    bubble.setAttribute("role", "alert");
    if (err.status !== 413 && err.status !== 422 && err.status !== 400) {
      var retry = el("button", "retry", TEXT.retry);
      retry.type = "button";
      retry.addEventListener("click", function () {
        if (busy) return;
        retry.disabled = true;
        ask(question, true);
      });
      bubble.appendChild(retry);
    }
  }

  // ---- asking -------------------------------------------------------------------------------

  function ask(question, isRetry) {
    question = String(question || "").trim();
    if (!question || busy) return;
    if (!isRetry) {
      showUser(question);
      transcript.push({ user: question });
      save();
    }
    setBusy(true);
    var typing = showTyping();
    var sentHistory = history.slice(-HISTORY_TURNS);
    if (pageContext && sentHistory.length < HISTORY_TURNS && !history.length) {
      sentHistory = [{ question: pageContext, answer: "" }];
    }
    postJSON("/api/ask", { question: question, history: sentHistory, lang: LANG })
      .then(function (data) {
        typing.remove();
        data = data || {};
        var entry = { question: question, data: data, voted: null };
        renderAnswer(question, data, entry);
        history.push({ question: question, answer: String(data.answer || "") });
        if (history.length > HISTORY_TURNS) history = history.slice(-HISTORY_TURNS);
        transcript.push(entry);
        save();
      }, function (err) {
        typing.remove();
        renderError(question, err);
      })
      .then(function () {
        setBusy(false);
        if (!panel.hidden) input.focus();
      });
  }

  function submit() {
    var question = input.value.trim();
    if (!question) {
      input.focus();
      return;
    }
    if (busy) return;
    input.value = "";
    autoGrow();
    ask(question);
  }

  // ---- events -------------------------------------------------------------------------------

  launcher.addEventListener("click", function () { setOpen(panel.hidden); });
  closeBtn.addEventListener("click", function () {
    setOpen(false);
    launcher.focus();
  });
  newChatBtn.addEventListener("click", newChat);
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    submit();
  });
  input.addEventListener("input", autoGrow);
  input.addEventListener("keydown", function (e) {
    // Enter sends; Shift+Enter is a new line; never while an IME is composing (pinyin input).
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      submit();
    }
  });
  function focusables() {
    return Array.prototype.filter.call(
      panel.querySelectorAll("button, a[href], textarea, [tabindex='0']"),
      function (node) { return !node.disabled && node.getClientRects().length > 0; });
  }

  root.addEventListener("keydown", function (e) {
    if (panel.hidden) return;
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      setOpen(false);
      launcher.focus();
    } else if (e.key === "Tab") {
      // Focus stays in the open panel: from the last control back to the first, and the other way.
      var nodes = focusables();
      if (!nodes.length) return;
      var first = nodes[0];
      var last = nodes[nodes.length - 1];
      var active = root.activeElement;
      var outside = !active || !panel.contains(active); // e.g. the launcher
      if (e.shiftKey && (active === first || outside)) {
        e.preventDefault();
        last.focus();
      } else if (!e.shiftKey && (active === last || outside)) {
        e.preventDefault();
        first.focus();
      }
    }
  });

  /** Open the widget from page scripts, optionally with a question (pre-filled, or sent with `send: true`)
   * and what the page is about (`context`, sent as the conversation's first turn). */
  function open(options) {
    options = options && typeof options === "object" ? options : {};
    if (options.context != null) setContext(options.context);
    if (panel.hidden) setOpen(true);
    var question = options.question == null ? "" : String(options.question).trim();
    if (question && options.send === true && !busy) {
      ask(question);
    } else if (question) {
      input.value = question;
      autoGrow();
    }
    input.focus();
    save();
  }

  window.FAQWidget = {
    open: open,
    close: function () { if (!panel.hidden) setOpen(false); },
    newChat: newChat
  };

  function mount() {
    (document.body || document.documentElement).appendChild(host);
    if (load()) setOpen(true);
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
