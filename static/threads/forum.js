/* forum.js: progressive enhancement for the thread and comment pages.
 *
 * Everything here also works without it: votes and replies are plain forms
 * that post and redirect, collapsing is <details>. With it, votes and replies
 * go through fetch() without a reload, "Reply" opens an inline form, and
 * j/k/p/c/u/d/r/? drive the comment tree from the keyboard. No dependencies
 * and no inline code or styles (the Content Security Policy forbids them).
 */
"use strict";

(() => {
  const COMMENT = "li.comment";
  const OWNERS = "li.comment, article.thread";
  const SHORTCUTS = [
    ["j", "Next comment"], ["k", "Previous comment"], ["p", "Parent comment"],
    ["c", "Collapse or expand"], ["u", "Upvote"], ["d", "Downvote"], ["r", "Reply"],
    ["?", "Show or hide these keys"], ["Esc", "Close this dialog"],
  ];
  let selected = null;
  let help = null;

  const make = (tag, props = {}, ...children) => {
    const element = Object.assign(document.createElement(tag), props);
    element.append(...children);
    return element;
  };

  // The elements matching `selector` that belong to `owner` (a comment, the
  // thread article or the document), not to a comment nested inside it.
  const own = (owner, selector) =>
    Array.from(owner.querySelectorAll(selector)).filter((el) => (el.closest(OWNERS) || document) === owner);

  // The CSRF cookie is HttpOnly, so the token comes from the page's forms:
  // the form's own, or any other (an inline reply form has none of its own).
  const csrfToken = (form) => {
    const input = form.querySelector("[name=csrfmiddlewaretoken]") || document.querySelector("[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  };

  // POST a form asking for JSON. Resolves to {response, body, away}: response
  // is null when the network failed; away is true when a 401 sent us to log in.
  async function send(form, data) {
    form.dataset.pending = "1";
    form.setAttribute("aria-busy", "true");
    const headers = { Accept: "application/json", "X-CSRFToken": csrfToken(form) };
    const response = await fetch(form.action, { method: "POST", credentials: "same-origin", headers, body: data })
      .catch(() => null);
    const body = response && (await response.json().catch(() => null));
    delete form.dataset.pending;
    form.removeAttribute("aria-busy");
    const away = Boolean(response && response.status === 401 && body && body.login_url);
    if (away) window.location.assign(body.login_url);
    return { response, body, away };
  }

  // A 503 means the database connection dropped for a moment, perhaps after
  // what was sent had been stored. Repeating a vote sets the same value, and
  // the server posts a repeated reply once (it answers "duplicate"), so one
  // retry after the Retry-After it asks for is safe.
  const RETRY_AFTER_MAX_SECONDS = 10;

  const retryDelay = (response) => {
    const seconds = Number.parseInt(response.headers.get("Retry-After") || "", 10);
    return 1000 * Math.min(Number.isFinite(seconds) && seconds >= 0 ? seconds : 1, RETRY_AFTER_MAX_SECONDS);
  };

  async function sendWithRetry(form, makeData) {
    const first = await send(form, makeData());
    if (!first.response || first.response.status !== 503) return first;
    form.dataset.pending = "1";
    form.setAttribute("aria-busy", "true");
    await new Promise((resolve) => setTimeout(resolve, retryDelay(first.response)));
    return send(form, makeData());
  }

  // ---- Votes -------------------------------------------------------------

  // The pressed button posts 0 (clear the vote), the other its direction.
  const setPressed = (form, vote) => {
    for (const [button, direction] of [[form.querySelector(".vote-up"), 1], [form.querySelector(".vote-down"), -1]]) {
      if (!button) continue;
      button.setAttribute("aria-pressed", String(vote === direction));
      button.value = vote === direction ? "0" : String(direction);
    }
  };

  async function vote(form, button) {
    const { response, body, away } = await sendWithRetry(form, () => {
      const data = new FormData(form);
      if (button && button.name) data.set(button.name, button.value);
      return data;
    });
    if (away) return;
    if (!response || !response.ok || !body) {
      form.dataset.plain = "1"; // let the browser post it the plain way, which always works
      form.requestSubmit(button || undefined);
      return;
    }
    const owner = form.closest(OWNERS) || document;
    // The [data-score|upvotes|downvotes] elements hold just their number.
    for (const key of ["score", "upvotes", "downvotes"].filter((k) => body[k] !== undefined)) {
      own(owner, `[data-${key}]`).forEach((el) => { el.textContent = el.dataset[key] = String(body[key]); });
    }
    own(owner, "form.vote-form").forEach((f) => setPressed(f, Number(body.vote) || 0));
  }

  // ---- Replies -----------------------------------------------------------

  // Visitors who are not logged in follow the link (to the login page) with
  // nothing typed yet; members (the header has a logout form) reply inline.
  function openReply(link) {
    if (!document.querySelector("form.logout-form")) return window.location.assign(link.href);
    const li = link.closest(COMMENT);
    let form = own(li, "form.reply-form")[0];
    if (!form) {
      const textarea = make("textarea", { name: "body", rows: 4, required: true, id: `reply-body-${li.dataset.id}` });
      form = make("form", { className: "reply-form inline-reply", method: "post", action: link.href },
        make("label", { className: "visually-hidden", textContent: "Your reply", htmlFor: textarea.id }),
        textarea,
        make("div", { className: "form-actions" },
          make("button", { type: "submit", textContent: "Reply" }),
          make("button", { type: "button", className: "cancel", textContent: "Cancel" })));
      (own(li, ".comment-actions")[0] || own(li, ".comment-body")[0]).after(form);
    }
    form.querySelector("textarea").focus();
  }

  function showErrors(form, errors) {
    const textarea = form.querySelector("textarea");
    let list = form.querySelector(".errorlist");
    if (!list) {
      list = make("ul", { className: "errorlist", id: `${textarea.id || "reply"}-errors` });
      list.setAttribute("role", "alert");
      textarea.before(list);
    }
    const messages = Object.values(errors).flat().map((m) => (typeof m === "string" ? m : m.message));
    list.replaceChildren(...messages.map((m) => make("li", { textContent: m })));
    textarea.setAttribute("aria-invalid", "true");
    textarea.setAttribute("aria-describedby", list.id);
    textarea.focus();
  }

  // The list a reply goes into: its parent's own list (made if missing,
  // after the parent's actions) or, for a top-level reply, the thread's.
  function listFor(parent) {
    const section = document.querySelector("section.comments");
    if (!parent) {
      return section && (section.querySelector(":scope > ol.comment-list") || section.appendChild(make("ol", { className: "comment-list" })));
    }
    const fold = own(parent, "details.comment-fold")[0];
    if (fold) fold.open = true;
    let list = own(parent, "ol.comment-list")[0];
    if (!list) {
      list = make("ol", { className: "comment-list" });
      const actions = own(parent, ".comment-actions")[0];
      if (actions) actions.after(list); else (fold || parent).append(list);
    }
    return list;
  }

  async function reply(form) {
    const { response, body, away } = await sendWithRetry(form, () => new FormData(form));
    if (away) return;
    if (response && response.status === 400 && body && body.errors) return showErrors(form, body.errors);
    if (!response || !response.ok || !body || !body.html) {
      const status = response ? ` (error ${response.status})` : "";
      // Without a clear answer the reply may have been stored all the same.
      const next = !response || response.status >= 500
        ? "It may already be posted: reload the page to check before trying again."
        : "Please try again.";
      return showErrors(form, { body: [`The reply could not be posted${status}. ${next}`] });
    }
    const parent = form.closest(COMMENT) || (body.parent_id && document.getElementById(`comment-${body.parent_id}`));
    const list = body.parent_id && !parent ? null : listFor(parent || null);
    if (!list) return window.location.reload();
    // A duplicate (a retry of a reply that was stored) may be on the page already.
    if (!document.getElementById(`comment-${body.id}`)) {
      const fragment = make("template");
      fragment.innerHTML = body.html.trim();
      list.append(fragment.content);
    }
    if (form.classList.contains("inline-reply")) {
      form.remove();
    } else {
      form.reset();
      form.querySelectorAll(".errorlist").forEach((el) => el.remove());
    }
    const added = document.getElementById(`comment-${body.id}`);
    if (added) {
      added.classList.add("is-new");
      select(added, { block: "center" });
    }
  }

  // ---- Keyboard ----------------------------------------------------------

  const current = () => (selected && selected.isConnected ? selected : null);

  const visible = () => Array.from(document.querySelectorAll(COMMENT)).filter(
    (li) => !li.hidden && !li.parentElement.closest("details:not([open])"));

  function select(li, { focus = true, mark = true, block = "nearest" } = {}) {
    if (selected && selected !== li) selected.classList.remove("keyboard-focus");
    selected = li;
    if (mark) li.classList.add("keyboard-focus");
    if (!focus) return;
    const head = own(li, "summary")[0];
    if (!head) li.tabIndex = -1;
    (head || li).focus({ preventScroll: true });
    // Show as much of the comment's own text as fits, its header first.
    const actions = own(li, ".comment-actions")[0];
    if (actions && block === "nearest") actions.scrollIntoView({ block });
    (head || li).scrollIntoView({ block });
  }

  function move(step) {
    const list = visible();
    const li = current();
    if (!li) return list.length && select(list[0]);
    const next = step > 0
      ? list.find((other) => li.compareDocumentPosition(other) & Node.DOCUMENT_POSITION_FOLLOWING)
      : list.filter((other) => li.compareDocumentPosition(other) & Node.DOCUMENT_POSITION_PRECEDING).pop();
    if (next) select(next);
  }

  function toggleHelp() {
    if (!help) {
      const keys = make("dl");
      for (const [key, text] of SHORTCUTS) keys.append(make("dt", {}, make("kbd", { textContent: key })), make("dd", { textContent: text }));
      help = make("dialog", { className: "keyboard-help", id: "keyboard-help" },
        make("h2", { id: "keyboard-help-title", textContent: "Keyboard shortcuts" }), keys,
        make("form", { method: "dialog" }, make("button", { type: "submit", textContent: "Close" })));
      help.setAttribute("aria-labelledby", "keyboard-help-title");
      document.body.append(help);
    }
    if (help.open) help.close(); else help.showModal();
  }

  // Keys that act on the selected comment.
  const ON_SELECTED = {
    p: (li) => {
      const id = li.dataset.parent;
      const parent = id && document.getElementById(`comment-${id}`);
      // On a comment's own page its parent is elsewhere: follow the page's link to it.
      const away = id && !parent && document.querySelector(`a.parent-link[href$="#comment-${id}"]:not([href^="#"])`);
      if (parent) select(parent); else if (away) away.click();
    },
    c: (li) => {
      const fold = own(li, "details.comment-fold")[0];
      if (fold) fold.open = !fold.open;
      select(li);
    },
    u: (li) => own(li, "form.vote-form .vote-up").slice(0, 1).forEach((b) => b.click()),
    d: (li) => own(li, "form.vote-form .vote-down").slice(0, 1).forEach((b) => b.click()),
    r: (li) => own(li, "a.reply-link").slice(0, 1).forEach(openReply),
  };

  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (event.defaultPrevented || event.ctrlKey || event.altKey || event.metaKey) return;
    if (target.isContentEditable || (target.closest && target.closest("input, textarea, select"))) return;
    if (help && help.open && event.key !== "?") return;
    const key = event.key;
    if (key === "j" || key === "k") move(key === "j" ? 1 : -1);
    else if (key === "?") toggleHelp();
    else if (ON_SELECTED[key]) { if (current()) ON_SELECTED[key](current()); }
    else return;
    event.preventDefault();
  });

  // ---- Wiring ------------------------------------------------------------

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.dataset.plain) return;
    const isVote = form.matches("form.vote-form");
    if (!isVote && !(form.matches("form.reply-form") && form.closest(OWNERS))) return;
    event.preventDefault();
    if (form.dataset.pending) return;
    if (isVote) vote(form, event.submitter); else reply(form);
  });

  document.addEventListener("click", (event) => {
    if (event.button !== 0 || event.ctrlKey || event.shiftKey || event.metaKey || event.altKey) return;
    const link = event.target.closest("a.reply-link");
    const cancel = event.target.closest("form.inline-reply .cancel");
    if (link && link.closest(COMMENT) && document.querySelector("form.logout-form")) {
      event.preventDefault();
      openReply(link);
    } else if (cancel) {
      const li = cancel.closest(COMMENT);
      cancel.closest("form").remove();
      own(li, "a.reply-link").slice(0, 1).forEach((a) => a.focus());
    }
  });

  // Focus inside a comment makes it the current one, so the keys go on from
  // where the reader is; only keyboard focus marks it.
  document.addEventListener("focusin", (event) => {
    const li = event.target.closest && event.target.closest(COMMENT);
    if (li && li !== selected) select(li, { focus: false, mark: event.target.matches(":focus-visible") });
  });

  // A link to a comment (?new=ID after posting, #comment-ID, "parent"
  // links): open its collapsed ancestors, then select and show it.
  function reveal(id, isNew) {
    const li = id && document.getElementById(`comment-${id}`);
    if (!li || !li.matches(COMMENT)) return;
    for (let d = li.parentElement.closest("details"); d; d = d.parentElement.closest("details")) d.open = true;
    if (isNew) li.classList.add("is-new");
    select(li, { block: isNew ? "center" : "start" });
  }

  const fromHash = () => (/^#comment-(\d+)$/.exec(window.location.hash) || [])[1];
  const newId = new URLSearchParams(window.location.search).get("new");
  reveal(newId || fromHash(), Boolean(newId));
  window.addEventListener("hashchange", () => reveal(fromHash(), false));
})();
