// The Lilypad viewer: one page over the JSON API under /api/. Hand-written, no build step.
// Every stored string reaches the page as text (textContent or a text node), never as HTML.
"use strict";

(() => {
  const main = document.getElementById("main");
  const statusLine = document.getElementById("status");
  let renderCount = 0; // a render started before the latest navigation drops its result

  // DOM helpers: strings become text nodes, so data can never become markup.

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = String(value);
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function link(hash, ...children) {
    // Only our own routes: the hash is built here from encoded parts, never taken from data.
    return el("a", { href: hash }, ...children);
  }

  function route(path, params) {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(params || {})) {
      if (value !== null && value !== undefined && value !== "") query.set(key, String(value));
    }
    const text = query.toString();
    return "#/" + path.map(encodeURIComponent).join("/") + (text ? "?" + text : "");
  }

  async function api(path, options) {
    const response = await fetch(path, options);
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    if (!response.ok) {
      const message = body && body.error ? body.error.message : `${response.status} ${response.statusText}`;
      throw new Error(message);
    }
    return body;
  }

  function apiPath(parts, params) {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(params || {})) {
      if (value !== null && value !== undefined && value !== "") query.set(key, String(value));
    }
    const text = query.toString();
    return "/api/" + parts.map(encodeURIComponent).join("/") + (text ? "?" + text : "");
  }

  function showStatus(message, isError) {
    statusLine.textContent = message || "";
    statusLine.className = isError ? "error" : "";
  }

  // Formatting.

  const dash = "—";

  function ms(value) {
    if (value === null || value === undefined) return dash;
    return value < 1000 ? `${value.toFixed(value < 10 ? 1 : 0)} ms` : `${(value / 1000).toFixed(2)} s`;
  }

  function seconds(value) {
    return value === null || value === undefined ? dash : ms(value * 1000);
  }

  function cost(value) {
    if (value === null || value === undefined) return dash;
    return "$" + (value >= 0.01 ? value.toFixed(4) : value.toPrecision(3));
  }

  function tokens(input, output) {
    if ((input === null || input === undefined) && (output === null || output === undefined)) return dash;
    return `${input ?? dash} → ${output ?? dash}`;
  }

  function when(ns) {
    if (ns === null || ns === undefined) return dash;
    return new Date(ns / 1e6).toLocaleString();
  }

  function percent(value) {
    return value === null || value === undefined ? dash : `${Math.round(value * 100)}%`;
  }

  function labelBadge(label) {
    if (!label) return el("span", { class: "muted", text: dash });
    return el("span", { class: `badge label-${label === "pass" ? "pass" : label === "fail" ? "fail" : "other"}`, text: label });
  }

  function pretty(value) {
    // JSON-looking strings are shown indented; anything else as it is.
    if (typeof value === "string") {
      const trimmed = value.trim();
      if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
        try {
          return JSON.stringify(JSON.parse(trimmed), null, 2);
        } catch {
          return value;
        }
      }
      return value;
    }
    return JSON.stringify(value, null, 2);
  }

  function parseJSON(value) {
    if (typeof value !== "string") return value ?? null;
    try {
      return JSON.parse(value);
    } catch {
      return null;
    }
  }

  // Router.

  function parseHash() {
    const hash = location.hash.replace(/^#\/?/, "");
    const [path, query] = hash.split("?", 2);
    const parts = path ? path.split("/").map(decodeURIComponent) : [];
    return { parts, params: new URLSearchParams(query || "") };
  }

  async function render() {
    const token = ++renderCount;
    const { parts, params } = parseHash();
    const view = parts[0] || "traces";
    for (const name of ["traces", "functions", "sessions"]) {
      const active = view === name || (view === "trace" && name === "traces") || (view === "function" && name === "functions");
      document.getElementById(`nav-${name}`).classList.toggle("active", active);
    }
    showStatus("Loading…");
    try {
      let content;
      if (view === "trace" && parts[1]) content = await traceView(parts[1]);
      else if (view === "functions") content = await functionsView();
      else if (view === "function" && parts[1]) content = await functionView(parts[1], params);
      else if (view === "sessions") content = await sessionsView();
      else content = await tracesView(params);
      if (token !== renderCount) return;
      main.replaceChildren(content);
      showStatus("");
    } catch (error) {
      if (token !== renderCount) return;
      main.replaceChildren(el("p", { class: "error", text: String(error.message || error) }));
      showStatus(String(error.message || error), true);
    }
  }

  // Traces.

  const traceFilters = ["function", "version", "model", "session", "errors"];

  async function tracesView(params) {
    const filters = {};
    for (const name of traceFilters) filters[name] = params.get(name) || "";
    const [traces, functions] = await Promise.all([
      api(apiPath(["traces"], { ...filters, limit: 100 })),
      api(apiPath(["functions"])),
    ]);
    const body = el("tbody");
    appendTraceRows(body, traces);
    const more = el("button", { type: "button", class: "more", text: "Load more" });
    more.hidden = traces.length < 100;
    let offset = traces.length;
    more.addEventListener("click", async () => {
      more.disabled = true;
      try {
        const page = await api(apiPath(["traces"], { ...filters, limit: 100, offset }));
        appendTraceRows(body, page);
        offset += page.length;
        more.hidden = page.length < 100;
      } catch (error) {
        showStatus(String(error.message), true);
      }
      more.disabled = false;
    });
    return el(
      "section",
      { id: "traces" },
      el("h1", { text: "Traces" }),
      filterForm(filters, functions),
      traces.length
        ? el("table", { id: "traces-table", class: "grid" }, traceHead(), body)
        : el("p", { class: "muted empty", text: "No traces match. Run a traced call, then reload." }),
      more,
    );
  }

  function filterForm(filters, functions) {
    const functionSelect = el(
      "select",
      { name: "function" },
      el("option", { value: "", text: "any function" }),
      functions.map((fn) => el("option", { value: fn.name, selected: fn.name === filters.function, text: fn.name })),
    );
    const errorSelect = el(
      "select",
      { name: "errors" },
      el("option", { value: "", text: "errors and successes" }),
      el("option", { value: "true", selected: filters.errors === "true", text: "errors only" }),
      el("option", { value: "false", selected: filters.errors === "false", text: "successes only" }),
    );
    const text = (name, placeholder) => el("input", { name, placeholder, value: filters[name] || "", size: 12 });
    const form = el(
      "form",
      { class: "filters" },
      functionSelect,
      text("version", "version"),
      text("model", "model"),
      text("session", "session"),
      errorSelect,
      el("button", { type: "submit", text: "Filter" }),
      link("#/traces", "clear"),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const values = {};
      for (const name of traceFilters) values[name] = form.elements[name].value.trim();
      location.hash = route(["traces"], values);
    });
    return form;
  }

  function traceHead() {
    const names = ["Started", "Trace", "Function", "Model", "Latency", "Tokens in → out", "Cost", "First chunk", "Spans", "Label"];
    return el("thead", {}, el("tr", {}, names.map((name) => el("th", { text: name }))));
  }

  function appendTraceRows(body, traces) {
    for (const trace of traces) {
      const open = () => (location.hash = route(["trace", trace.trace_id]));
      const row = el(
        "tr",
        { class: trace.error ? "trace-row failed" : "trace-row", "data-trace-id": trace.trace_id, onclick: open },
        el("td", { class: "nowrap", text: when(trace.start_ns) }),
        el("td", {}, link(route(["trace", trace.trace_id]), trace.root_name || trace.trace_id), trace.error ? el("span", { class: "badge label-fail", text: "error" }) : null),
        el("td", { text: trace.function ? `${trace.function}${trace.version ? " " + trace.version : ""}` : dash }),
        el("td", { text: trace.model || dash }),
        el("td", { class: "num", text: ms(trace.duration_ms) }),
        el("td", { class: "num", text: tokens(trace.input_tokens, trace.output_tokens) }),
        el("td", { class: "num", text: cost(trace.cost) }),
        el("td", { class: "num", text: seconds(trace.ttfc) }),
        el("td", { class: "num", text: trace.span_count }),
        el("td", {}, labelBadge(trace.annotation)),
      );
      body.append(row);
    }
  }

  // One trace: the span tree, the selected span, the annotations.

  async function traceView(traceId) {
    const trace = await api(apiPath(["traces", traceId]));
    const all = [];
    const depthOf = new Map();
    const walk = (nodes, depth, parent) => {
      for (const node of nodes) {
        node.parent = parent;
        all.push(node);
        depthOf.set(node.span_id, depth);
        walk(node.children, depth + 1, node);
      }
    };
    walk(trace.spans, 0, null);
    const start = Math.min(...all.map((span) => span.start_ns));
    const end = Math.max(...all.map((span) => span.end_ns));
    // Roots stay open and deeper spans with children start closed: the shape shows at a glance.
    const collapsed = new Set(all.filter((span) => depthOf.get(span.span_id) > 0 && span.children.length).map((span) => span.span_id));
    const chats = all.filter((span) => span.attributes && span.attributes["gen_ai.output.messages"]);
    let selected = (chats.length ? chats[chats.length - 1] : all[0]) || null;
    for (let node = selected && selected.parent; node; node = node.parent) collapsed.delete(node.span_id);

    const tree = el("div", { id: "span-tree", class: "tree", role: "tree" });
    const detail = el("div", { id: "span-detail", class: "detail" });

    function drawTree() {
      const rows = [];
      const visit = (nodes) => {
        for (const node of nodes) {
          rows.push(treeRow(node));
          if (!collapsed.has(node.span_id)) visit(node.children);
        }
      };
      visit(trace.spans);
      tree.replaceChildren(...rows);
    }

    function treeRow(node) {
      const depth = depthOf.get(node.span_id);
      const hasChildren = node.children.length > 0;
      const open = hasChildren && !collapsed.has(node.span_id);
      const toggle = hasChildren
        ? el("button", {
            type: "button",
            class: "toggle",
            "aria-expanded": open ? "true" : "false",
            title: open ? "Collapse" : "Expand",
            text: open ? "▾" : "▸",
            onclick: (event) => {
              event.stopPropagation();
              if (collapsed.has(node.span_id)) collapsed.delete(node.span_id);
              else collapsed.add(node.span_id);
              drawTree();
            },
          })
        : el("span", { class: "toggle-spacer" });
      const bar = el("span", { class: node.status === "ERROR" ? "bar failed" : "bar" });
      const width = Math.max(end - start, 1);
      bar.style.marginLeft = `${((node.start_ns - start) / width) * 100}%`;
      bar.style.width = `${Math.max(((node.end_ns - node.start_ns) / width) * 100, 0.5)}%`;
      const row = el(
        "div",
        {
          class: "span-row" + (node === selected ? " selected" : "") + (node.status === "ERROR" ? " failed" : ""),
          role: "treeitem",
          "aria-level": depth + 1,
          "aria-expanded": hasChildren ? String(open) : null,
          "data-span-id": node.span_id,
          tabindex: 0,
          onclick: () => {
            selected = node;
            drawTree();
            detail.replaceChildren(spanDetail(node));
          },
        },
        el("span", { class: "span-label" }, toggle, el("span", { class: "span-name", text: node.name }), el("span", { class: "kind", text: node.kind })),
        el("span", { class: "span-time num", text: ms(node.duration_ms) }),
        el("span", { class: "timeline" }, bar),
      );
      row.firstChild.style.paddingLeft = `${depth * 1.25}rem`;
      return row;
    }

    const expandAll = el("button", { type: "button", text: "Expand all", onclick: () => { collapsed.clear(); drawTree(); } });
    const collapseAll = el("button", {
      type: "button",
      text: "Collapse all",
      onclick: () => {
        for (const span of all) if (span.children.length) collapsed.add(span.span_id);
        drawTree();
      },
    });
    drawTree();
    if (selected) detail.replaceChildren(spanDetail(selected));
    const root = trace.spans[0];
    return el(
      "section",
      { id: "trace", "data-trace-id": trace.trace_id },
      el("p", {}, link("#/traces", "← Traces")),
      el("h1", {}, root ? root.name : trace.trace_id),
      el(
        "p",
        { class: "muted" },
        `trace ${trace.trace_id} · ${trace.span_count} span${trace.span_count === 1 ? "" : "s"} · ${ms((end - start) / 1e6)} · ${when(start)}`,
      ),
      el("div", { class: "tree-tools" }, expandAll, collapseAll),
      el("div", { class: "trace-layout" }, tree, detail),
      annotationsPanel(trace),
    );
  }

  function spanDetail(span) {
    const attributes = span.attributes || {};
    const facts = [
      ["Kind", span.kind],
      ["Status", span.status + (span.status_message ? `: ${span.status_message}` : "")],
      ["Duration", ms(span.duration_ms)],
      ["Model", span.model],
      ["Provider", span.provider],
      ["Tokens in → out", span.input_tokens !== null || span.output_tokens !== null ? tokens(span.input_tokens, span.output_tokens) : null],
      ["Cost", span.cost !== null && span.cost !== undefined ? cost(span.cost) : null],
      ["First chunk", span.ttfc !== null && span.ttfc !== undefined ? seconds(span.ttfc) : null],
      ["Function", span.function ? `${span.function}${span.version ? " " + span.version : ""}` : null],
      ["Session", span.session_id],
      ["Error", span.error_type],
    ].filter(([, value]) => value !== null && value !== undefined && value !== "");
    const sections = [
      el("h2", { text: span.name }),
      el("dl", { class: "facts" }, facts.map(([name, value]) => [el("dt", { text: name }), el("dd", { text: value })])),
    ];
    const conversation = chatView(attributes);
    if (conversation) sections.push(el("h3", { text: "Conversation" }), conversation);
    const tool = toolView(attributes);
    if (tool) sections.push(el("h3", { text: "Tool call" }), tool);
    if (attributes["mirascope.trace.arguments"] !== undefined || attributes["mirascope.trace.result"] !== undefined) {
      sections.push(
        el("h3", { text: "Function call" }),
        codeBlock("Arguments", attributes["mirascope.trace.arguments"]),
        codeBlock("Result", attributes["mirascope.trace.result"]),
      );
    }
    if (span.events && span.events.length) {
      sections.push(
        el("h3", { text: "Events" }),
        el(
          "ul",
          { class: "events" },
          span.events.map((event) =>
            el(
              "li",
              {},
              el("strong", { text: event.name }),
              " ",
              el("span", { class: "muted", text: when(event.time_ns) }),
              el("pre", { text: pretty(event.attributes || {}) }),
            ),
          ),
        ),
      );
    }
    const names = Object.keys(attributes).sort();
    sections.push(
      el(
        "details",
        { class: "attributes" },
        el("summary", { text: `Attributes (${names.length})` }),
        el(
          "table",
          { class: "grid compact" },
          el("tbody", {}, names.map((name) => el("tr", {}, el("th", { text: name }), el("td", {}, el("pre", { text: pretty(attributes[name]) }))))),
        ),
      ),
    );
    return el("div", { class: "span-detail", "data-span-id": span.span_id }, sections);
  }

  function codeBlock(title, value) {
    if (value === undefined || value === null) return null;
    return el("div", { class: "block" }, el("div", { class: "block-title", text: title }), el("pre", { text: pretty(value) }));
  }

  function toolView(attributes) {
    if (!attributes["gen_ai.tool.name"]) return null;
    return el(
      "div",
      { class: "tool" },
      el("p", {}, el("code", { text: attributes["gen_ai.tool.name"] }), attributes["gen_ai.tool.call.id"] ? el("span", { class: "muted", text: ` ${attributes["gen_ai.tool.call.id"]}` }) : null),
      attributes["gen_ai.tool.description"] ? el("p", { class: "muted", text: attributes["gen_ai.tool.description"] }) : null,
      codeBlock("Arguments", attributes["gen_ai.tool.call.arguments"]),
      codeBlock("Result", attributes["gen_ai.tool.call.result"]),
      attributes["gen_ai.tool.call.arguments"] === undefined && attributes["gen_ai.tool.call.result"] === undefined
        ? el("p", { class: "muted", text: "Arguments and results are recorded when content capture is on." })
        : null,
    );
  }

  function chatView(attributes) {
    const system = parseJSON(attributes["gen_ai.system_instructions"]);
    const input = parseJSON(attributes["gen_ai.input.messages"]);
    const output = parseJSON(attributes["gen_ai.output.messages"]);
    if (!Array.isArray(input) && !Array.isArray(output) && !Array.isArray(system)) return null;
    const messages = [];
    if (Array.isArray(system) && system.length) messages.push(message({ role: "system", parts: system }, "input"));
    for (const entry of Array.isArray(input) ? input : []) messages.push(message(entry, "input"));
    for (const entry of Array.isArray(output) ? output : []) messages.push(message(entry, "output"));
    return el("div", { class: "chat" }, messages);
  }

  function message(entry, side) {
    const role = entry && typeof entry.role === "string" ? entry.role : "unknown";
    const parts = entry && Array.isArray(entry.parts) ? entry.parts : [];
    return el(
      "div",
      { class: `message role-${/^[a-z_]+$/.test(role) ? role : "other"} ${side}` },
      el("div", { class: "role" }, role, entry && entry.finish_reason ? el("span", { class: "muted", text: ` · ${entry.finish_reason}` }) : null),
      parts.map(part),
    );
  }

  function part(item) {
    if (!item || typeof item !== "object") return el("div", { class: "part", text: String(item) });
    switch (item.type) {
      case "text":
        return el("div", { class: "part text", text: item.content ?? "" });
      case "reasoning":
        return el("details", { class: "part reasoning" }, el("summary", { text: "Reasoning" }), el("div", { class: "text", text: item.content ?? "" }));
      case "tool_call":
        return el(
          "div",
          { class: "part tool-call" },
          el("div", { class: "block-title" }, "Tool call ", el("code", { text: item.name ?? "?" }), item.id ? el("span", { class: "muted", text: ` ${item.id}` }) : null),
          el("pre", { text: pretty(item.arguments ?? {}) }),
        );
      case "tool_call_response":
        return el(
          "div",
          { class: "part tool-result" },
          el("div", { class: "block-title" }, "Tool result", item.id ? el("span", { class: "muted", text: ` ${item.id}` }) : null),
          el("pre", { text: pretty(item.response ?? "") }),
        );
      case "blob":
        if (typeof item.content === "string" && /^image\/(png|jpeg|gif|webp)$/.test(item.mime_type || "")) {
          const image = el("img", { class: "blob", alt: `${item.modality || "image"} (${item.mime_type})` });
          image.src = `data:${item.mime_type};base64,${item.content.replace(/[^A-Za-z0-9+/=]/g, "")}`;
          return el("div", { class: "part" }, image);
        }
        return el("div", { class: "part muted", text: `[${item.modality || "blob"} ${item.mime_type || ""}${item.size ? `, ${item.size} characters` : ""}]` });
      case "uri":
        return el("div", { class: "part muted", text: `[${item.modality || "file"} ${item.uri ?? ""}]` });
      default:
        return el("div", { class: "part muted", text: `[${item.type ?? "part"}]` });
    }
  }

  function annotationsPanel(trace) {
    const list = el("ul", { id: "annotations", class: "annotations" });
    const draw = (annotations) => {
      list.replaceChildren(
        ...(annotations.length
          ? annotations.map((note) =>
              el(
                "li",
                { class: "annotation" },
                labelBadge(note.label),
                note.score !== null && note.score !== undefined ? el("span", { class: "score", text: ` score ${note.score}` }) : null,
                note.reason ? el("span", { class: "reason", text: ` ${note.reason}` }) : null,
                el("span", { class: "muted", text: ` · ${note.source} · ${when(note.created_ns)}` }),
              ),
            )
          : [el("li", { class: "muted", text: "Not annotated yet." })]),
      );
    };
    draw(trace.annotations);
    const choice = (value, text) =>
      el("label", { class: `choice label-${value}` }, el("input", { type: "radio", name: "label", value, required: true }), ` ${text}`);
    const reason = el("textarea", { name: "reason", rows: 2, placeholder: "Why? (optional)", maxlength: 10000 });
    const save = el("button", { type: "submit", text: "Save annotation" });
    const form = el("form", { id: "annotate-form", class: "annotate" }, choice("pass", "Pass"), choice("fail", "Fail"), reason, save);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const label = form.elements.label.value;
      save.disabled = true;
      try {
        await api(apiPath(["traces", trace.trace_id, "annotations"]), {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ label, reason: reason.value.trim() || null }),
        });
        draw(await api(apiPath(["traces", trace.trace_id, "annotations"])));
        form.reset();
        showStatus("Annotation saved.");
      } catch (error) {
        showStatus(String(error.message), true);
      }
      save.disabled = false;
    });
    return el("section", { class: "panel" }, el("h2", { text: "Annotations" }), list, form);
  }

  // Functions and versions.

  async function functionsView() {
    const functions = await api(apiPath(["functions"]));
    return el(
      "section",
      { id: "functions" },
      el("h1", { text: "Functions" }),
      functions.length
        ? el(
            "table",
            { id: "functions-table", class: "grid" },
            el("thead", {}, el("tr", {}, ["Function", "Latest version", "Versions", "Traces"].map((name) => el("th", { text: name })))),
            el(
              "tbody",
              {},
              functions.map((fn) =>
                el(
                  "tr",
                  { class: "function-row", onclick: () => (location.hash = route(["function", fn.name])) },
                  el("td", {}, link(route(["function", fn.name]), fn.name)),
                  el("td", { text: fn.latest_version || dash }),
                  el("td", { class: "num", text: fn.version_count }),
                  el("td", { class: "num", text: fn.trace_count }),
                ),
              ),
            ),
          )
        : el("p", { class: "muted empty", text: "No versioned functions yet: decorate one with @lilypad.version()." }),
    );
  }

  async function functionView(name, params) {
    const versions = await api(apiPath(["functions", name, "versions"]));
    const newest = versions[versions.length - 1];
    const previous = versions.length > 1 ? versions[versions.length - 2] : newest;
    const a = params.get("a") || (previous && previous.version);
    const b = params.get("b") || (newest && newest.version);
    const radio = (side, version) =>
      el("input", { type: "radio", name: side, value: version.version, checked: version.version === (side === "a" ? a : b), "aria-label": `${side.toUpperCase()}: ${version.version}` });
    const form = el(
      "form",
      { id: "versions-form" },
      el(
        "table",
        { id: "versions-table", class: "grid" },
        el("thead", {}, el("tr", {}, ["A", "B", "Version", "Hash", "Created", "Traces", "p50", "p95", "Mean cost", "Pass rate"].map((title) => el("th", { text: title })))),
        el(
          "tbody",
          {},
          versions.map((version) =>
            el(
              "tr",
              { class: "version-row", "data-version": version.version },
              el("td", {}, radio("a", version)),
              el("td", {}, radio("b", version)),
              el("td", {}, el("strong", { text: version.version })),
              el("td", {}, el("code", { title: version.hash, text: version.hash.slice(0, 12) })),
              el("td", { class: "nowrap", text: when(version.created_ns) }),
              el("td", { class: "num" }, link(route(["traces"], { function: name, version: version.version }), String(version.trace_count))),
              el("td", { class: "num", text: ms(version.p50_ms) }),
              el("td", { class: "num", text: ms(version.p95_ms) }),
              el("td", { class: "num", text: cost(version.mean_cost) }),
              el("td", { class: "num", text: percent(version.pass_rate) }),
            ),
          ),
        ),
      ),
      versions.length > 1 ? el("button", { type: "submit", id: "compare", text: "Compare A and B" }) : null,
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      location.hash = route(["function", name], { a: form.elements.a.value, b: form.elements.b.value });
    });
    const sections = [el("p", {}, link("#/functions", "← Functions")), el("h1", {}, name), form];
    if (params.get("a") && params.get("b")) sections.push(await diffView(name, params.get("a"), params.get("b")));
    else if (newest) sections.push(el("h2", { text: `Code of ${newest.version}` }), el("pre", { class: "code", text: newest.code }));
    return el("section", { id: "function", "data-function": name }, sections);
  }

  async function diffView(name, a, b) {
    const diff = await api(apiPath(["functions", name, "diff"], { a, b }));
    const cell = (number, text, kind, side) => [
      el("td", { class: `line-no ${kind}`, text: number ?? "" }),
      el("td", { class: `code ${kind} ${side}`, text: text ?? "" }),
    ];
    const rows = diff.side_by_side.map((row) =>
      el("tr", { class: `diff-${row.kind}` }, cell(row.a_line, row.a, row.a === null ? "empty" : row.kind, "a"), cell(row.b_line, row.b, row.b === null ? "empty" : row.kind, "b")),
    );
    const signature = (record) => el("div", { class: "muted" }, el("code", { text: record.signature }));
    return el(
      "div",
      { id: "diff" },
      el("h2", { text: diff.identical ? `${diff.a.version} and ${diff.b.version} have the same code` : `${diff.a.version} → ${diff.b.version}` }),
      el(
        "table",
        { id: "diff-table", class: "diff" },
        el("colgroup", {}, el("col", { class: "line-no" }), el("col"), el("col", { class: "line-no" }), el("col")),
        el(
          "thead",
          {},
          el("tr", {}, el("th", { colspan: 2 }, `${diff.a.version} `, el("code", { text: diff.a.hash.slice(0, 12) })), el("th", { colspan: 2 }, `${diff.b.version} `, el("code", { text: diff.b.hash.slice(0, 12) }))),
          el("tr", {}, el("th", { colspan: 2 }, signature(diff.a)), el("th", { colspan: 2 }, signature(diff.b))),
        ),
        el("tbody", {}, rows),
      ),
      el("details", {}, el("summary", { text: "Unified diff" }), el("pre", { class: "code", text: diff.unified || "(no difference)" })),
    );
  }

  // Sessions.

  async function sessionsView() {
    const sessions = await api(apiPath(["sessions"]));
    const groups = sessions.map((session) => {
      const body = el("div", { class: "session-traces" });
      const group = el(
        "details",
        { class: "session", "data-session-id": session.session_id },
        el(
          "summary",
          {},
          el("strong", { text: session.session_id }),
          el("span", { class: "muted", text: ` · ${session.trace_count} trace${session.trace_count === 1 ? "" : "s"} · ${when(session.first_ns)} – ${when(session.last_ns)}` }),
        ),
        body,
      );
      group.addEventListener("toggle", async () => {
        if (!group.open || body.childElementCount) return;
        try {
          const traces = await api(apiPath(["traces"], { session: session.session_id, limit: 1000 }));
          const rows = el("tbody");
          appendTraceRows(rows, traces);
          body.replaceChildren(el("table", { class: "grid" }, traceHead(), rows));
        } catch (error) {
          body.replaceChildren(el("p", { class: "error", text: String(error.message) }));
        }
      });
      return group;
    });
    return el(
      "section",
      { id: "sessions" },
      el("h1", { text: "Sessions" }),
      groups.length ? groups : el("p", { class: "muted empty", text: "No sessions yet: group calls with lilypad.session(id=...)." }),
    );
  }

  window.addEventListener("hashchange", render);
  render();
})();
