/* Staff keyword search page: /search?q=…&topic=…&page=…
 *
 * State lives in the URL (linkable; back/forward work). API text is inserted with textContent only;
 * the one exception is the server-made snippet, which is rebuilt from text nodes and <mark> elements
 * alone before it reaches the page.
 */
(function () {
  "use strict";

  var PAGE_SIZE = 10;
  var NO_TOPIC_LABEL = "（无父主题）";

  var form = document.getElementById("search-form");
  var qInput = document.getElementById("q");
  var topicSelect = document.getElementById("topic");
  var statusEl = document.getElementById("status");
  var errorEl = document.getElementById("error");
  var resultsEl = document.getElementById("results");
  var pagerEl = document.getElementById("pager");

  var requestSeq = 0;
  var inflight = null;
  var current = readState();

  // ---- helpers --------------------------------------------------------------------------------

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = String(text);
    return node;
  }

  /** A result URL usable as a link: http(s) or a same-origin relative path; else null. */
  function safeHref(url) {
    if (typeof url !== "string" || !url.trim()) return null;
    var parsed;
    try {
      parsed = new URL(url.trim(), window.location.origin + "/");
    } catch (e) {
      return null;
    }
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  }

  /** Server snippet HTML → a fragment holding only text nodes and <mark> elements. */
  function sanitizeSnippet(html) {
    var template = document.createElement("template"); // inert: nothing in it runs or loads
    template.innerHTML = String(html == null ? "" : html);
    var out = document.createDocumentFragment();
    copySafe(template.content, out);
    return out;
  }

  var DROP = { SCRIPT: 1, STYLE: 1, TEMPLATE: 1, NOSCRIPT: 1, IFRAME: 1, OBJECT: 1, EMBED: 1, SVG: 1, MATH: 1, svg: 1, math: 1 };

  function copySafe(source, target) {
    var children = source.childNodes;
    for (var i = 0; i < children.length; i++) {
      var node = children[i];
      if (node.nodeType === Node.TEXT_NODE) {
        target.appendChild(document.createTextNode(node.data));
      } else if (node.nodeType === Node.ELEMENT_NODE) {
        if (DROP[node.tagName]) continue;
        if (node.tagName === "MARK") {
          var mark = document.createElement("mark");
          copySafe(node, mark);
          target.appendChild(mark);
        } else {
          copySafe(node, target); // any other element: keep its text, drop the element
        }
      }
    }
  }

  function topicLabel(topic) {
    return topic ? topic : NO_TOPIC_LABEL;
  }

  // ---- URL state ------------------------------------------------------------------------------

  function readState() {
    var params = new URLSearchParams(window.location.search);
    var page = parseInt(params.get("page") || "1", 10);
    return {
      q: (params.get("q") || "").trim(),
      topic: params.has("topic") ? params.get("topic") : null, // null: all topics; "": no parent topic
      page: isFinite(page) && page >= 1 ? page : 1
    };
  }

  function stateUrl(state) {
    var params = new URLSearchParams();
    if (state.q) params.set("q", state.q);
    if (state.topic !== null) params.set("topic", state.topic);
    if (state.page > 1) params.set("page", String(state.page));
    var query = params.toString();
    return window.location.pathname + (query ? "?" + query : "");
  }

  function sameState(a, b) {
    return a.q === b.q && a.topic === b.topic && a.page === b.page;
  }

  function navigate(state) {
    if (!sameState(state, readState())) window.history.pushState(null, "", stateUrl(state));
    current = state;
    syncControls(state);
    return search(state);
  }

  function syncControls(state) {
    if (document.activeElement !== qInput || qInput.value.trim() !== state.q) qInput.value = state.q;
    var value = state.topic === null ? "" : "t:" + state.topic;
    if (state.topic !== null && !hasOption(value)) addTopicOption(state.topic, null);
    topicSelect.value = value;
    document.title = state.q ? state.q + " - 知识库搜索" : "知识库搜索";
  }

  function selectedTopic() {
    var v = topicSelect.value;
    return v.indexOf("t:") === 0 ? v.slice(2) : null;
  }

  // ---- topics ---------------------------------------------------------------------------------

  function hasOption(value) {
    for (var i = 0; i < topicSelect.options.length; i++) {
      if (topicSelect.options[i].value === value) return true;
    }
    return false;
  }

  function addTopicOption(topic, count) {
    var option = document.createElement("option");
    option.value = "t:" + topic;
    option.textContent = count == null ? topicLabel(topic) : topicLabel(topic) + " (" + count + ")";
    topicSelect.appendChild(option);
    return option;
  }

  function loadTopics() {
    return fetch("/api/topics", { headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(function (topics) {
        (Array.isArray(topics) ? topics : []).forEach(function (t) {
          if (!t || typeof t.topic !== "string") return;
          var value = "t:" + t.topic;
          if (hasOption(value)) {
            // placeholder added from the URL before the list arrived: give it its count
            for (var i = 0; i < topicSelect.options.length; i++) {
              if (topicSelect.options[i].value === value) {
                topicSelect.options[i].textContent = topicLabel(t.topic) + " (" + Number(t.count) + ")";
              }
            }
          } else {
            addTopicOption(t.topic, Number(t.count));
          }
        });
        syncControls(current);
      })
      .catch(function () {
        var option = document.createElement("option");
        option.disabled = true;
        option.textContent = "（主题列表加载失败）";
        topicSelect.appendChild(option);
      });
  }

  // ---- searching ------------------------------------------------------------------------------

  function setLoading(loading) {
    document.body.classList.toggle("is-loading", loading);
    resultsEl.setAttribute("aria-busy", String(loading));
  }

  function setStatus(parts) {
    statusEl.textContent = "";
    parts.forEach(function (part) {
      statusEl.appendChild(typeof part === "string" ? document.createTextNode(part) : part);
    });
  }

  function clearResults() {
    resultsEl.textContent = "";
    pagerEl.textContent = "";
    pagerEl.hidden = true;
  }

  function showError(message, state) {
    errorEl.textContent = "";
    errorEl.appendChild(el("span", null, message));
    var retry = el("button", "btn-secondary", "重试");
    retry.type = "button";
    retry.addEventListener("click", function () { search(state); });
    errorEl.appendChild(retry);
    errorEl.hidden = false;
  }

  function errorText(status) {
    if (status === 429) return "搜索太频繁了，请稍等片刻再试。";
    if (status === 413) return "搜索词太长了，请缩短后再试。";
    if (status === 422 || status === 400) return "搜索条件无效，请检查关键词。";
    if (status) return "搜索服务暂时不可用（HTTP " + status + "），请稍后再试。";
    return "无法连接搜索服务，请检查网络后重试。";
  }

  function search(state) {
    var seq = ++requestSeq;
    if (inflight) inflight.abort();
    inflight = null;
    errorEl.hidden = true;
    errorEl.textContent = "";
    if (!state.q) {
      setLoading(false);
      clearResults();
      setStatus(["输入关键词后按回车开始搜索。"]);
      statusEl.classList.add("hint");
      return Promise.resolve();
    }
    statusEl.classList.remove("hint");
    var params = new URLSearchParams();
    params.set("q", state.q);
    if (state.topic !== null) params.set("topic", state.topic);
    params.set("limit", String(PAGE_SIZE));
    params.set("offset", String((state.page - 1) * PAGE_SIZE));
    inflight = typeof AbortController === "function" ? new AbortController() : null;
    setLoading(true);
    setStatus([el("span", "spinner"), "正在搜索…"]);
    return fetch("/api/search?" + params.toString(), {
      headers: { Accept: "application/json" },
      signal: inflight ? inflight.signal : undefined
    })
      .then(function (r) {
        if (!r.ok) {
          var err = new Error("HTTP " + r.status);
          err.status = r.status;
          throw err;
        }
        return r.json();
      })
      .then(function (data) {
        if (seq !== requestSeq) return;
        setLoading(false);
        render(state, data || {});
      }, function (err) {
        if (seq !== requestSeq || (err && err.name === "AbortError")) return;
        setLoading(false);
        clearResults();
        setStatus([]);
        showError(errorText(err && err.status), state);
      });
  }

  // ---- rendering ------------------------------------------------------------------------------

  function render(state, data) {
    var total = Math.max(0, Number(data.total) || 0);
    var results = Array.isArray(data.results) ? data.results : [];
    var pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
    clearResults();

    if (!total) {
      var parts = ["没有找到与 ", el("strong", null, "“" + state.q + "”"), " 相关的结果"];
      if (state.topic !== null) parts.push("（主题：" + topicLabel(state.topic) + "）");
      parts.push("。试试更短或不同的关键词。");
      setStatus(parts);
      statusEl.classList.add("empty");
      if (state.topic !== null) {
        var all = el("button", "btn-link", "在全部主题中搜索");
        all.type = "button";
        all.addEventListener("click", function () {
          navigate({ q: state.q, topic: null, page: 1 });
        });
        statusEl.appendChild(document.createTextNode(" "));
        statusEl.appendChild(all);
      }
      return;
    }
    statusEl.classList.remove("empty");

    var summary = ["共 ", el("strong", "total", String(total)), " 条结果"];
    if (state.topic !== null) summary.push(" · 主题：" + topicLabel(state.topic));
    summary.push(" · 第 " + state.page + " / " + pages + " 页");
    setStatus(summary);

    if (!results.length) {
      statusEl.appendChild(document.createTextNode("。这一页没有结果。"));
    }
    var start = (state.page - 1) * PAGE_SIZE;
    results.forEach(function (hit, i) {
      resultsEl.appendChild(renderHit(hit, start + i + 1));
    });
    resultsEl.setAttribute("start", String(start + 1));
    renderPager(state, pages);
  }

  function renderHit(hit, rank) {
    var li = el("li", "result");
    var head = el("div", "result-head");
    var h2 = el("h2", "result-title");
    var title = String(hit.title || "(无标题)");
    var href = safeHref(hit.url);
    var link;
    if (href) {
      link = el("a", "result-link", title);
      link.href = href;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
    } else {
      link = el("span", "result-link no-url", title);
      link.tabIndex = 0;
      link.title = "此条目没有原文链接";
    }
    h2.appendChild(link);
    head.appendChild(h2);

    var meta = el("div", "result-meta");
    var chip = el("span", "chip" + (hit.topic ? "" : " chip-empty"), topicLabel(hit.topic));
    chip.title = "父主题";
    meta.appendChild(chip);
    var score = Number(hit.score);
    var scoreEl = el("span", "score", "相关度 " + (isFinite(score) ? score.toFixed(2) : "—"));
    scoreEl.title = "关键词匹配得分 (BM25)";
    meta.appendChild(scoreEl);
    meta.appendChild(el("span", "rank visually-hidden", "第 " + rank + " 条"));
    head.appendChild(meta);
    li.appendChild(head);

    var snippet = el("p", "snippet");
    snippet.appendChild(sanitizeSnippet(hit.snippet));
    snippet.normalize();
    li.appendChild(snippet);
    return li;
  }

  function pageNumbers(page, pages) {
    var wanted = [1, pages, page - 2, page - 1, page, page + 1, page + 2];
    var set = {};
    wanted.forEach(function (n) { if (n >= 1 && n <= pages) set[n] = true; });
    var sorted = Object.keys(set).map(Number).sort(function (a, b) { return a - b; });
    var out = [];
    sorted.forEach(function (n, i) {
      if (i && n - sorted[i - 1] > 1) out.push(null); // gap
      out.push(n);
    });
    return out;
  }

  function pageLink(state, page, text, label, cls) {
    var a = el("a", "page " + (cls || ""), text);
    var target = { q: state.q, topic: state.topic, page: page };
    a.href = stateUrl(target);
    if (label) a.setAttribute("aria-label", label);
    a.addEventListener("click", function (e) {
      if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return; // new tab etc.
      e.preventDefault();
      navigate(target).then(function () {
        window.scrollTo(0, 0);
        statusEl.focus({ preventScroll: true });
      });
    });
    return a;
  }

  function renderPager(state, pages) {
    if (pages <= 1 && state.page <= 1) return;
    var page = state.page;
    if (page > 1) {
      pagerEl.appendChild(pageLink(state, page - 1, "‹ 上一页", "上一页", "prev"));
    } else {
      var prev = el("span", "page prev disabled", "‹ 上一页");
      prev.setAttribute("aria-disabled", "true");
      pagerEl.appendChild(prev);
    }
    pageNumbers(Math.min(page, pages), pages).forEach(function (n) {
      if (n === null) {
        var gap = el("span", "page gap", "…");
        gap.setAttribute("aria-hidden", "true");
        pagerEl.appendChild(gap);
      } else if (n === page) {
        var cur = el("a", "page current", String(n));
        cur.href = stateUrl(state);
        cur.setAttribute("aria-current", "page");
        cur.setAttribute("aria-label", "第 " + n + " 页，当前页");
        pagerEl.appendChild(cur);
      } else {
        pagerEl.appendChild(pageLink(state, n, String(n), "第 " + n + " 页"));
      }
    });
    if (page < pages) {
      pagerEl.appendChild(pageLink(state, page + 1, "下一页 ›", "下一页", "next"));
    } else {
      var next = el("span", "page next disabled", "下一页 ›");
      next.setAttribute("aria-disabled", "true");
      pagerEl.appendChild(next);
    }
    pagerEl.hidden = false;
  }

  // ---- keyboard -------------------------------------------------------------------------------

  function resultTargets() {
    return Array.prototype.slice.call(resultsEl.querySelectorAll(".result-link"));
  }

  function isEditable(node) {
    if (!node) return false;
    var tag = node.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || node.isContentEditable;
  }

  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.isComposing || e.keyCode === 229) return;
    var active = document.activeElement;
    if (e.key === "/" && !e.ctrlKey && !e.metaKey && !e.altKey && !isEditable(active)) {
      e.preventDefault();
      qInput.focus();
      qInput.select();
      return;
    }
    if (e.key !== "ArrowDown" && e.key !== "ArrowUp" && e.key !== "Escape") return;
    var targets = resultTargets();
    var index = targets.indexOf(active);
    if (e.key === "Escape") {
      if (index >= 0) {
        e.preventDefault();
        qInput.focus();
      }
      return;
    }
    if (!targets.length) return;
    if (active === qInput) {
      if (e.key === "ArrowDown") {
        e.preventDefault();
        targets[0].focus();
      }
      return;
    }
    if (index < 0) return;
    e.preventDefault();
    if (e.key === "ArrowDown") {
      targets[Math.min(index + 1, targets.length - 1)].focus();
    } else if (index === 0) {
      qInput.focus();
    } else {
      targets[index - 1].focus();
    }
  });

  // ---- wiring ---------------------------------------------------------------------------------

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var state = { q: qInput.value.trim(), topic: selectedTopic(), page: 1 };
    if (sameState(state, current)) {
      search(state); // same query again: refresh without a new history entry
    } else {
      navigate(state);
    }
  });

  topicSelect.addEventListener("change", function () {
    navigate({ q: qInput.value.trim(), topic: selectedTopic(), page: 1 });
  });

  window.addEventListener("popstate", function () {
    current = readState();
    syncControls(current);
    search(current);
  });

  syncControls(current);
  loadTopics();
  search(current);
  if (!current.q) qInput.focus();
})();
