// The maintainers' console: every call sends the admin token (kept in sessionStorage for this tab).
// Every text from users or the knowledge base is inserted as text, never as HTML.
"use strict";

const TOKEN_KEY = "faq-admin-token";
const SVG = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = String(text);
  return node;
}

class Unauthorized extends Error {}

async function api(path, options = {}) {
  const headers = { Authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY) || ""}` };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method: options.method || "GET", headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  if (response.status === 401) throw new Unauthorized("令牌无效 · invalid token");
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.detail || `HTTP ${response.status}`);
  return data;
}

function fail(target, error) {
  if (error instanceof Unauthorized) { logout(error.message); return; }
  target.replaceChildren(el("p", { class: "error", role: "alert" }, String(error.message || error)));
}

// ---- login and tabs -------------------------------------------------------------------------------

function logout(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  $("tabs").hidden = true;
  $("rebuild").hidden = true;
  document.querySelectorAll(".tab").forEach((tab) => { tab.hidden = true; });
  $("login").hidden = false;
  $("login-error").textContent = message || "";
}

async function login(event) {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
  try {
    await api("/admin/rebuild");
  } catch (error) {
    logout(error.message);
    return;
  }
  $("token").value = "";
  $("login").hidden = true;
  $("tabs").hidden = false;
  $("rebuild").hidden = false;
  show("queue");
  pollRebuild();
}

const LOADERS = { queue: loadQueue, hits: () => $("hit-question").focus(), feedback: loadFeedback,
                  analytics: loadAnalytics };

function show(name) {
  document.querySelectorAll(".tab").forEach((tab) => { tab.hidden = tab.id !== name; });
  document.querySelectorAll("#tabs button").forEach((button) => {
    button.classList.toggle("active", button.dataset.tab === name);
  });
  LOADERS[name]();
}

// ---- queue ----------------------------------------------------------------------------------------

let draftCluster = null;

async function loadQueue() {
  const status = $("queue-status");
  status.textContent = "加载中… Loading…";
  let data;
  try {
    data = await api("/admin/queue");
  } catch (error) {
    fail($("clusters"), error);
    status.textContent = "";
    return;
  }
  const records = data.clusters.reduce((sum, cluster) => sum + cluster.count, 0);
  status.textContent = `${data.clusters.length} 组 groups · ${records} 条记录 records`;
  $("clusters").replaceChildren(...data.clusters.map(clusterCard));
  if (!data.clusters.length) $("clusters").append(el("p", { class: "muted" }, "队列为空 · The queue is empty."));
  $("close-calls").replaceChildren(...data.close_calls.map((cluster) => el("li", {},
    el("strong", {}, cluster.question), ` (${cluster.count}) `,
    el("span", { class: "muted" }, `${cluster.closest ? cluster.closest.title : "—"} ↔ `
      + `${cluster.runner_up ? cluster.runner_up.title : "—"}`
      + (cluster.margin === null ? "" : ` · margin ${cluster.margin.toFixed(4)}`)
      + (cluster.swapped ? " · swapped" : "")))));
  $("disliked").replaceChildren(...data.disliked.map((item) => el("li", {},
    el("strong", {}, item.entry.title), ` 踩 ${item.count}: `, el("span", { class: "muted" }, item.questions.join(" / ")))));
}

function clusterCard(cluster) {
  const kinds = Object.entries(cluster.kinds).map(([kind, n]) => el("span", { class: `chip ${kind}` }, `${kind} ${n}`));
  const select = el("select", { "aria-label": "条目 Entry" });
  const entries = [cluster.closest, cluster.runner_up].filter(Boolean);
  for (const entry of entries) select.append(el("option", { value: entry.passage_id }, entry.title));
  const result = el("span", { class: "muted", role: "status" });
  const boxes = cluster.questions.map((variant) => el("input", { type: "checkbox", checked: "", value: variant.question,
                                                                  "aria-label": variant.question }));
  const accept = el("button", { type: "button", class: "primary accept", onclick: async () => {
    const questions = boxes.filter((box) => box.checked).map((box) => box.value);
    if (!questions.length) { result.textContent = "请至少选择一个问题 · select at least one question"; return; }
    accept.disabled = true;
    try {
      const done = await api("/admin/alternates", { method: "POST", body: { entry: select.value, questions } });
      result.textContent = `已添加 ${done.added.length} 个问法到「${done.entry.title}」· added; 重建后生效 rebuild to apply`;
    } catch (error) {
      fail(result, error);
      accept.disabled = false;
    }
  } }, "添加为其他问法 Add as alternates");
  const draft = el("button", { type: "button", class: "draft", onclick: () => openDraft(cluster) },
    "新建条目 Draft entry");
  return el("article", { class: "card cluster", "data-cluster": cluster.id },
    el("div", {}, el("span", { class: "count" }, cluster.count), el("strong", { class: "question" }, cluster.question),
      " ", ...kinds, cluster.used_history ? el("span", { class: "chip" }, `follow-up ${cluster.used_history}`) : null),
    el("ul", { class: "variants" }, ...cluster.questions.map((variant, i) =>
      el("li", {}, el("label", {}, boxes[i], " ", variant.question, el("span", { class: "muted" }, ` ×${variant.count}`))))),
    el("div", { class: "muted" }, "最接近的条目 Closest entry: ", cluster.closest ? cluster.closest.title : "—",
      cluster.confidence === null ? "" : ` · confidence ${cluster.confidence.toFixed(3)}`),
    el("div", { class: "actions" }, entries.length ? select : null, entries.length ? accept : null, draft, result));
}

function openDraft(cluster) {
  draftCluster = cluster;
  $("draft-question").value = cluster.question;
  $("draft-answer").value = "";
  $("draft-topic").value = "";
  $("draft-url").value = "";
  $("draft-error").textContent = "";
  $("draft").showModal();
}

async function saveDraft(event) {
  event.preventDefault();
  const question = $("draft-question").value.trim();
  const body = { question, answer: $("draft-answer").value, topic: $("draft-topic").value, url: $("draft-url").value,
                 questions: draftCluster.questions.map((v) => v.question).filter((q) => q !== question) };
  try {
    await api("/admin/entries", { method: "POST", body });
  } catch (error) {
    fail($("draft-error"), error);
    return;
  }
  $("draft").close();
  loadQueue();
}

// ---- rebuild --------------------------------------------------------------------------------------

let rebuildTimer = null;

function describe(status) {
  const when = status.finished || status.started || "";
  return { idle: "未重建 · no rebuild yet", running: `重建中… rebuilding (since ${when})`,
           succeeded: `已完成 · rebuilt ${when}`, failed: `失败 · failed ${when}` }[status.state] || status.state;
}

async function pollRebuild() {
  clearTimeout(rebuildTimer);
  try {
    const status = await api("/admin/rebuild");
    $("rebuild-state").textContent = describe(status);
    $("rebuild-state").title = status.output || "";
    $("rebuild-start").disabled = status.state === "running";
    if (status.state === "running") rebuildTimer = setTimeout(pollRebuild, 1000);
  } catch (error) {
    if (error instanceof Unauthorized) logout(error.message);
    else $("rebuild-state").textContent = error.message;
  }
}

async function startRebuild() {
  try {
    await api("/admin/rebuild", { method: "POST", body: {} });
  } catch (error) {
    $("rebuild-state").textContent = error.message;
  }
  pollRebuild();
}

// ---- hit test -------------------------------------------------------------------------------------

async function hitTest(event) {
  event.preventDefault();
  const previous = $("hit-previous").value.trim();
  const body = { question: $("hit-question").value, history: previous ? [{ question: previous, answer: "" }] : [] };
  const target = $("hit-result");
  let data;
  try {
    data = await api("/admin/explain", { method: "POST", body });
  } catch (error) {
    fail(target, error);
    return;
  }
  const top = data.candidates[0];
  const signals = top ? Object.entries(top.signals) : [];
  target.replaceChildren(
    el("div", { class: "card" },
      el("p", { class: `decision ${data.answered ? "yes" : "no"}` },
        data.answered ? "回答 Answered" : "拒答 Refused",
        ` · confidence ${data.confidence.toFixed(4)} ${data.answered ? "≥" : "<"} threshold ${data.threshold.toFixed(4)}`,
        data.used_history ? " · read with the previous question" : ""),
      data.unstated.length ? el("p", { class: "muted unstated" }, "问题问的是 The question asks for: ", data.unstated.join(" · "),
        " — 首条没有给出 the top entry states none") : null,
      data.unnamed.length ? el("p", { class: "muted unnamed" }, "问题问到 The question asks about: ", data.unnamed.join(" · "),
        " — 知识库从未提及 the help center never names it") : null,
      el("p", { class: "answer" }, data.answer),
      el("p", { class: "muted tokens" }, "关键词 Keywords: ", data.tokens.join(" · "))),
    el("table", { id: "hit-candidates" },
      el("thead", {}, el("tr", {}, el("th", {}, "#"), el("th", {}, "条目 Entry"), el("th", {}, "score"))),
      el("tbody", {}, ...data.candidates.map((c, i) => el("tr", {}, el("td", {}, i + 1), el("td", {}, c.title),
        el("td", {}, c.score.toFixed(4)))))),
    el("h3", {}, "首条的信号 Signals of the top entry"),
    el("table", { id: "hit-signals" }, el("tbody", {}, ...signals.map(([name, value]) =>
      el("tr", {}, el("th", {}, name), el("td", {}, Number(value).toFixed(4)))))));
}

// ---- feedback -------------------------------------------------------------------------------------

async function loadFeedback() {
  const rows = $("feedback-rows");
  try {
    const items = await api("/admin/feedback");
    rows.replaceChildren(...items.map((item) => el("tr", { class: item.helpful ? "up" : "down" },
      el("td", { class: "muted" }, item.time.replace("T", " ").slice(0, 19)),
      el("td", {}, item.helpful ? "👍 赞 up" : "👎 踩 down"),
      el("td", {}, item.question),
      el("td", {}, el("strong", {}, item.title), el("br"), item.answer))));
    if (!items.length) rows.append(el("tr", {}, el("td", { colspan: 4, class: "muted" }, "还没有反馈 · No feedback yet")));
  } catch (error) {
    if (error instanceof Unauthorized) logout(error.message);
    else rows.replaceChildren(el("tr", {}, el("td", { colspan: 4, class: "error" }, error.message)));
  }
}

// ---- analytics (inline SVG) -----------------------------------------------------------------------

function barsByDay(days) {
  const width = 360, height = 170, left = 28, bottom = 22;
  const max = Math.max(1, ...days.map((d) => d.asked));
  const step = (width - left) / Math.max(days.length, 1);
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img",
                             "aria-label": "questions per day" });
  chart.append(svg("text", { x: 0, y: 12 }, max));
  days.forEach((day, i) => {
    const x = left + i * step, scale = (height - bottom - 16) / max;
    const answered = day.answered * scale, refused = day.refused * scale;
    chart.append(svg("rect", { x, y: height - bottom - answered, width: Math.max(step - 3, 2), height: answered,
                               fill: "#2da44e", class: "bar-answered" }));
    chart.append(svg("rect", { x, y: height - bottom - answered - refused, width: Math.max(step - 3, 2),
                               height: refused, fill: "#cf222e", class: "bar-refused" }));
    chart.append(svg("text", { x, y: height - 6 }, day.day.slice(5)));
  });
  return chart;
}

function horizontalBars(items, color) {
  const row = 22, width = 360, label = 200;
  const max = Math.max(1, ...items.map((item) => item.count));
  const chart = svg("svg", { viewBox: `0 0 ${width} ${row * Math.max(items.length, 1)}`, width,
                             height: row * Math.max(items.length, 1), role: "img" });
  items.forEach((item, i) => {
    const text = item.question.length > 16 ? `${item.question.slice(0, 16)}…` : item.question;
    chart.append(svg("text", { x: 0, y: i * row + 15 }, text));
    chart.append(svg("rect", { x: label, y: i * row + 4, width: ((width - label - 30) * item.count) / max,
                               height: row - 8, fill: color, class: "bar" }));
    chart.append(svg("text", { x: width - 26, y: i * row + 15 }, item.count));
  });
  return chart;
}

function shareBar(parts) {
  const width = 360, total = parts.reduce((sum, part) => sum + part.value, 0);
  const chart = svg("svg", { viewBox: `0 0 ${width} 44`, width, height: 44, role: "img" });
  let x = 0;
  for (const part of parts) {
    const w = total ? (width * part.value) / total : 0;
    chart.append(svg("rect", { x, y: 0, width: w, height: 22, fill: part.color, class: `share-${part.name}` }));
    x += w;
  }
  chart.append(svg("text", { x: 0, y: 38 }, parts.map((p) =>
    `${p.label} ${p.value} (${total ? Math.round((100 * p.value) / total) : 0}%)`).join("  ·  ")));
  return chart;
}

async function loadAnalytics() {
  let data;
  try {
    data = await api("/admin/analytics");
  } catch (error) {
    fail($("plot-days"), error);
    return;
  }
  $("plot-days").replaceChildren(barsByDay(data.per_day));
  $("plot-share").replaceChildren(shareBar([
    { name: "answered", label: "answered", value: data.answered, color: "#2da44e" },
    { name: "refused", label: "refused", value: data.refused, color: "#cf222e" }]));
  $("plot-top").replaceChildren(horizontalBars(data.top_questions, "#0969da"));
  $("plot-refused").replaceChildren(horizontalBars(data.top_refused_clusters, "#cf222e"));
  $("plot-thumbs").replaceChildren(shareBar([
    { name: "up", label: "赞 up", value: data.thumbs.up, color: "#2da44e" },
    { name: "down", label: "踩 down", value: data.thumbs.down, color: "#bf8700" }]));
}

// ---- start ----------------------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  $("login").addEventListener("submit", login);
  document.querySelectorAll("#tabs button").forEach((button) => {
    button.addEventListener("click", () => show(button.dataset.tab));
  });
  $("rebuild-start").addEventListener("click", startRebuild);
  $("hit-form").addEventListener("submit", hitTest);
  $("draft-form").addEventListener("submit", saveDraft);
  $("draft-cancel").addEventListener("click", () => $("draft").close());
  if (sessionStorage.getItem(TOKEN_KEY)) {
    $("token").value = sessionStorage.getItem(TOKEN_KEY);
    $("login").requestSubmit();
  } else {
    $("token").focus();
  }
});
