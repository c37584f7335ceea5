/*!
 * FAQ chat widget — embed with one tag:
 *   <script src="https://faq.example.com/widget.js" data-title="在线帮助" data-lang="zh"
 *           data-position="bottom-right"></script>
 *
 * Talks to the API on the origin it was loaded from (cross-origin from the host page).
 * Renders inside a Shadow DOM so host CSS can't reach it and its CSS can't leak out.
 * Every piece of API or user text is inserted with textContent / createTextNode: never as HTML.
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
  var TIMEOUT_MS = 30000;
  var SVG_NS = "http://www.w3.org/2000/svg";

  var TEXT = {
    zh: {
      title: "在线帮助",
      subtitle: "通常几秒内回复 · 答案来自帮助中心",
      open: "打开在线帮助",
      close: "关闭在线帮助",
      greeting: "您好！请问有什么可以帮您？可以直接输入您的问题，例如“PO提交后多久能验证完？”",
      placeholder: "输入您的问题…",
      inputLabel: "您的问题",
      send: "发送",
      typing: "正在查找答案",
      source: "来源: ",
      topic: " · 父主题: ",
      tryThese: "您可以试试这些问题：",
      related: "相关问题：",
      helpfulQ: "这个回答有帮助吗？",
      helpful: "有帮助",
      notHelpful: "没有帮助",
      thanks: "感谢您的反馈！",
      feedbackFailed: "反馈提交失败，请稍后再试。",
      errNetwork: "网络连接出现问题，暂时无法获取答案。请检查网络后重试。",
      errTimeout: "等待时间过长，请稍后重试。",
      errRate: "提问太频繁啦，请稍等一分钟再试。",
      errTooLong: "问题太长了，请精简后再试。",
      errEmpty: "请输入您的问题。",
      errServer: "服务暂时不可用，请稍后再试。",
      retry: "重试",
      you: "您",
      bot: "助手",
      footer: "回答由知识库自动生成，仅供参考"
    },
    en: {
      title: "Help",
      subtitle: "Answers from the help center, usually in seconds",
      open: "Open help chat",
      close: "Close help chat",
      greeting: "Hi! How can we help? Type your question below.",
      placeholder: "Ask a question…",
      inputLabel: "Your question",
      send: "Send",
      typing: "Looking for an answer",
      source: "Source: ",
      topic: " · Topic: ",
      tryThese: "You could try:",
      related: "Related:",
      helpfulQ: "Was this helpful?",
      helpful: "Helpful",
      notHelpful: "Not helpful",
      thanks: "Thanks for your feedback!",
      feedbackFailed: "Couldn't send feedback, please try again later.",
      errNetwork: "We couldn't reach the help service. Check your connection and try again.",
      errTimeout: "This is taking too long, please try again.",
      errRate: "Too many questions at once. Please wait a minute and try again.",
      errTooLong: "That question is too long, please shorten it.",
      errEmpty: "Please type a question.",
      errServer: "The help service is unavailable right now, please try again later.",
      retry: "Retry",
      you: "You",
      bot: "Assistant",
      footer: "Answers are generated from the knowledge base"
    }
  }[LANG];
  var TITLE = script.getAttribute("data-title") || TEXT.title;

  var CSS = [
    ":host{all:initial !important;display:block !important;position:static !important;",
    "  font-family:-apple-system,BlinkMacSystemFont,'Segoe UI','PingFang SC','Hiragino Sans GB','Microsoft YaHei',",
    "  'Noto Sans CJK SC','Source Han Sans SC','WenQuanYi Micro Hei',Roboto,'Helvetica Neue',Arial,sans-serif !important;",
    "  font-size:14px !important;line-height:1.5 !important;color:#1f2937 !important;",
    "  --accent:#2563eb;--accent-dark:#1d4ed8;--accent-soft:#eff6ff;--bg:#fff;--muted:#6b7280;--border:#e5e7eb;}",
    "*,*::before,*::after{box-sizing:border-box;}",
    "[hidden]{display:none !important;}",
    "button{font:inherit;color:inherit;}",
    ".launcher{position:fixed;bottom:20px;z-index:2147483000;width:56px;height:56px;border-radius:50%;border:0;",
    "  background:var(--accent);color:#fff;cursor:pointer;display:flex;align-items:center;justify-content:center;",
    "  box-shadow:0 6px 20px rgba(37,99,235,.35),0 2px 6px rgba(0,0,0,.12);transition:transform .15s ease,background .15s;}",
    ".launcher:hover{background:var(--accent-dark);transform:scale(1.05);}",
    ".launcher:focus-visible{outline:3px solid #93c5fd;outline-offset:3px;}",
    ".launcher svg{width:26px;height:26px;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;stroke-linejoin:round;}",
    ".right{right:20px;}.left{left:20px;}",
    ".panel{position:fixed;bottom:88px;z-index:2147483000;width:380px;max-width:calc(100vw - 24px);",
    "  height:560px;max-height:calc(100vh - 110px);background:var(--bg);border-radius:16px;overflow:hidden;",
    "  display:flex;flex-direction:column;box-shadow:0 12px 48px rgba(15,23,42,.22),0 2px 8px rgba(15,23,42,.08);",
    "  animation:pop .18s ease-out;}",
    "@keyframes pop{from{opacity:0;transform:translateY(8px) scale(.98);}to{opacity:1;transform:none;}}",
    ".header{display:flex;align-items:center;gap:12px;padding:14px 14px 14px 18px;",
    "  background:linear-gradient(135deg,#2563eb,#4f46e5);color:#fff;}",
    ".avatar{flex:none;width:36px;height:36px;border-radius:50%;background:rgba(255,255,255,.2);",
    "  display:flex;align-items:center;justify-content:center;}",
    ".avatar svg{width:20px;height:20px;fill:none;stroke:#fff;stroke-width:2;stroke-linecap:round;stroke-linejoin:round;}",
    ".heading{flex:1;min-width:0;}",
    ".title{margin:0;font-size:16px;font-weight:600;line-height:1.3;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;}",
    ".subtitle{margin:2px 0 0;font-size:12px;opacity:.85;}",
    ".close{flex:none;width:34px;height:34px;border:0;border-radius:8px;background:transparent;color:#fff;cursor:pointer;",
    "  display:flex;align-items:center;justify-content:center;}",
    ".close:hover{background:rgba(255,255,255,.16);}",
    ".close:focus-visible{outline:2px solid #fff;outline-offset:1px;}",
    ".close svg{width:20px;height:20px;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;}",
    ".messages{flex:1;overflow-y:auto;padding:16px;background:#f8fafc;display:flex;flex-direction:column;gap:10px;",
    "  overscroll-behavior:contain;}",
    ".msg{max-width:86%;padding:10px 13px;border-radius:14px;white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word;}",
    ".msg.user{align-self:flex-end;background:var(--accent);color:#fff;border-bottom-right-radius:4px;}",
    ".msg.bot{align-self:flex-start;background:#fff;border:1px solid var(--border);border-bottom-left-radius:4px;}",
    ".msg.error{align-self:flex-start;background:#fef2f2;border:1px solid #fecaca;color:#991b1b;border-bottom-left-radius:4px;}",
    ".msg.noanswer{background:#fffbeb;border-color:#fde68a;}",
    ".sr{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0,0,0,0);white-space:nowrap;border:0;}",
    ".cite{margin:8px 0 0;padding-top:8px;border-top:1px dashed var(--border);font-size:12px;color:var(--muted);white-space:normal;}",
    ".cite a{color:var(--accent);text-decoration:none;font-weight:500;}",
    ".cite a:hover{text-decoration:underline;}",
    ".cite a:focus-visible,.chip:focus-visible,.vote:focus-visible,.send:focus-visible,.retry:focus-visible{outline:2px solid var(--accent);outline-offset:2px;}",
    ".cite .ctitle{color:#374151;font-weight:500;}",
    ".chips-label{margin:8px 0 4px;font-size:12px;color:var(--muted);white-space:normal;}",
    ".chips{display:flex;flex-wrap:wrap;gap:6px;white-space:normal;}",
    ".chip{border:1px solid #bfdbfe;background:var(--accent-soft);color:var(--accent-dark);border-radius:999px;",
    "  padding:5px 11px;font-size:13px;line-height:1.35;cursor:pointer;text-align:left;max-width:100%;}",
    ".chip:hover{background:#dbeafe;}",
    ".chip:disabled{opacity:.6;cursor:default;}",
    ".feedback{display:flex;align-items:center;gap:6px;margin-top:8px;font-size:12px;color:var(--muted);white-space:normal;}",
    ".vote{width:30px;height:28px;border:1px solid var(--border);border-radius:8px;background:#fff;cursor:pointer;",
    "  display:inline-flex;align-items:center;justify-content:center;color:#4b5563;padding:0;}",
    ".vote svg{width:15px;height:15px;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;stroke-linejoin:round;}",
    ".vote:hover:not(:disabled){border-color:var(--accent);color:var(--accent);}",
    ".vote[aria-pressed=true]{background:var(--accent-soft);border-color:var(--accent);color:var(--accent);}",
    ".vote:disabled{cursor:default;}",
    ".vote:disabled:not([aria-pressed=true]){opacity:.45;}",
    ".thanks{color:#047857;font-weight:500;}",
    ".retry{margin-left:8px;border:1px solid #fca5a5;background:#fff;color:#991b1b;border-radius:8px;padding:2px 10px;cursor:pointer;font-size:12px;}",
    ".typing{align-self:flex-start;background:#fff;border:1px solid var(--border);border-radius:14px;border-bottom-left-radius:4px;",
    "  padding:12px 14px;display:flex;gap:4px;}",
    ".typing span{width:7px;height:7px;border-radius:50%;background:#9ca3af;animation:blink 1.2s infinite ease-in-out;}",
    ".typing span:nth-child(2){animation-delay:.15s;}.typing span:nth-child(3){animation-delay:.3s;}",
    "@keyframes blink{0%,80%,100%{opacity:.3;transform:translateY(0);}40%{opacity:1;transform:translateY(-3px);}}",
    ".composer{display:flex;align-items:flex-end;gap:8px;padding:10px 12px;border-top:1px solid var(--border);background:#fff;}",
    ".input{flex:1;min-width:0;resize:none;border:1px solid #d1d5db;border-radius:12px;padding:9px 12px;font:inherit;",
    "  color:#111827;background:#fff;max-height:120px;line-height:1.4;outline:none;}",
    ".input:focus{border-color:var(--accent);box-shadow:0 0 0 3px rgba(37,99,235,.18);}",
    ".send{flex:none;width:40px;height:40px;border:0;border-radius:12px;background:var(--accent);color:#fff;cursor:pointer;",
    "  display:flex;align-items:center;justify-content:center;}",
    ".send:hover:not(:disabled){background:var(--accent-dark);}",
    ".send:disabled{background:#93c5fd;cursor:default;}",
    ".send svg{width:18px;height:18px;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;stroke-linejoin:round;}",
    ".footer{margin:0;padding:0 12px 8px;background:#fff;font-size:11px;color:#9ca3af;text-align:center;}",
    "@media (max-width:480px){",
    "  .panel{left:8px !important;right:8px !important;width:auto;max-width:none;bottom:80px;height:auto;top:8px;max-height:none;border-radius:14px;}",
    "  .launcher{bottom:14px;}.right{right:14px;}.left{left:14px;}",
    "  .input{font-size:16px;}", // no zoom-on-focus on iOS
    "}",
    "@media (prefers-reduced-motion:reduce){.panel{animation:none;}.typing span{animation:none;}.launcher{transition:none;}}"
  ].join("\n");

  // ---- small DOM helpers (text only) --------------------------------------------------------

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
  style.textContent = CSS;
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
  panel.setAttribute("aria-modal", "false");
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
  header.appendChild(avatar);
  header.appendChild(heading);
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

  panel.appendChild(header);
  panel.appendChild(messages);
  panel.appendChild(form);
  panel.appendChild(el("p", "footer", TEXT.footer));
  root.appendChild(panel);
  root.appendChild(launcher);

  // ---- state --------------------------------------------------------------------------------

  var history = []; // [{question, answer}], oldest first
  var busy = false;
  var greeted = false;

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

  function setOpen(open) {
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    launcher.setAttribute("aria-label", open ? TEXT.close : TEXT.open);
    chatIcon.style.display = open ? "none" : "";
    closeIcon.style.display = open ? "" : "none";
    if (open) {
      if (!greeted) {
        greeted = true;
        addMessage("bot greeting", TEXT.greeting);
      }
      scrollToEnd();
      input.focus();
    }
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

  function renderFeedback(bubble, passageId, question) {
    var row = el("div", "feedback");
    var label = el("span", "feedback-label", TEXT.helpfulQ);
    var up = el("button", "vote up");
    var down = el("button", "vote down");
    [[up, TEXT.helpful, ICONS.up, true], [down, TEXT.notHelpful, ICONS.down, false]].forEach(function (spec) {
      var btn = spec[0];
      btn.type = "button";
      btn.setAttribute("aria-label", spec[1]);
      btn.title = spec[1];
      btn.setAttribute("aria-pressed", "false");
      btn.appendChild(icon(spec[2]));
      btn.addEventListener("click", function () {
        up.disabled = down.disabled = true;
        btn.setAttribute("aria-pressed", "true");
        postJSON("/api/feedback", { passage_id: passageId, question: question, helpful: spec[3] })
          .then(function () {
            label.textContent = TEXT.thanks;
            label.className = "feedback-label thanks";
          }, function () {
            label.textContent = TEXT.feedbackFailed;
            btn.setAttribute("aria-pressed", "false");
            up.disabled = down.disabled = false;
          });
      });
    });
    row.appendChild(label);
    row.appendChild(up);
    row.appendChild(down);
    bubble.appendChild(row);
  }

  function renderAnswer(question, data) {
    var answered = !!data.answered;
    var bubble = addMessage(answered ? "bot answer" : "bot answer noanswer", String(data.answer || ""), TEXT.bot);
    var citations = Array.isArray(data.citations) ? data.citations : [];
    var suggestions = Array.isArray(data.suggestions) ? data.suggestions : [];
    if (answered) {
      renderCitations(bubble, citations);
      renderChips(bubble, TEXT.related, suggestions.slice(0, 3));
      var cited = citations[0] && citations[0].passage_id;
      if (cited) renderFeedback(bubble, String(cited), question);
    } else {
      renderChips(bubble, TEXT.tryThese, suggestions);
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
    if (!isRetry) addMessage("user", question, TEXT.you);
    setBusy(true);
    var typing = showTyping();
    var sentHistory = history.slice(-HISTORY_TURNS);
    postJSON("/api/ask", { question: question, history: sentHistory })
      .then(function (data) {
        typing.remove();
        data = data || {};
        renderAnswer(question, data);
        history.push({ question: question, answer: String(data.answer || "") });
        if (history.length > HISTORY_TURNS) history = history.slice(-HISTORY_TURNS);
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
  root.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && !panel.hidden) {
      e.preventDefault();
      e.stopPropagation();
      setOpen(false);
      launcher.focus();
    }
  });

  function mount() {
    (document.body || document.documentElement).appendChild(host);
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
