/* The worker's pages on a phone: the service worker, the offline queue of visits, location.
 * Progressive enhancement: every form works without this script. With it, a visit recorded
 * offline waits in localStorage (shown as "待发送 N 条") and is sent when the connection
 * returns, each with its own idempotency key, so a resend never stores it twice. A task
 * completed offline (form.complete-form, a visit that closes the task) waits the same way. */
(function () {
  "use strict";
  var box = document.getElementById("queue");
  var user = box ? box.getAttribute("data-user") : "";
  var KEY = "gridmap.queue." + user;
  var SENT = "gridmap.sent." + user;
  var sending = false;
  var sentNote = null;

  function load() {
    try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; }
  }
  function save(queue) { localStorage.setItem(KEY, JSON.stringify(queue)); }

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    return Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
  }

  function say(kind, n, status) {
    if (!box) return;
    box.textContent = (box.getAttribute("data-" + kind) || "")
      .replace("{n}", String(n)).replace("{status}", String(status || ""));
    box.hidden = false;
  }

  function showQueuedTask(item) {
    var form = document.querySelector("form.complete-form[data-task='" + item.task + "']");
    var open = document.querySelector(".open-task[data-task='" + item.task + "']");
    var line = document.createElement(form ? "p" : "span");
    line.className = "queued";
    line.textContent = "[" + (box.getAttribute("data-tag") || "") + "] " + item.fields.note;
    if (form) { form.parentNode.insertBefore(line, form); form.hidden = true; }
    else if (open) open.appendChild(line);
  }

  function showQueued(queue) {
    var old = document.querySelectorAll("li.queued, .queued");
    for (var i = 0; i < old.length; i++) old[i].parentNode.removeChild(old[i]);
    queue.forEach(function (item) {
      if (item.task) { showQueuedTask(item); return; }
      var card = document.getElementById("unit-" + item.unit);
      var form = card && card.querySelector("form.visit-form");
      if (!form) return;
      var list = card.querySelector("ol.visits");
      if (!list) {
        list = document.createElement("ol");
        list.className = "visits";
        form.parentNode.insertBefore(list, form);
      }
      var li = document.createElement("li");
      li.className = "queued";
      li.textContent = "[" + (box.getAttribute("data-tag") || "") + "] " + item.fields.note;
      list.insertBefore(li, list.firstChild);
    });
  }

  function render() {
    if (!box) return;
    var queue = load();
    var failed = queue.filter(function (i) { return i.failed; });
    if (sending && queue.length) say("sending", queue.length);
    else if (failed.length) say("failed", failed.length, failed[0].failed);
    else if (queue.length) say("pending", queue.length);
    else if (!navigator.onLine) say("offline", 0);
    else if (sessionStorage.getItem(SENT)) {
      sentNote = sessionStorage.getItem(SENT);
      sessionStorage.removeItem(SENT);
      say("sent", sentNote);
    }
    // kept while the page lives: an "online" event reaching the page after the reload
    // renders again and must not hide what was just sent
    else if (sentNote) say("sent", sentNote);
    else box.hidden = true;
    showQueued(queue);
  }

  function currentCsrf() {
    var field = document.querySelector("input[name=csrf]");
    return field ? field.value : "";
  }

  function post(item) {
    var fields = Object.assign({}, item.fields, { csrf: currentCsrf() || item.fields.csrf });
    return fetch(item.action, {
      method: "POST", body: new URLSearchParams(fields), credentials: "same-origin",
      headers: { Accept: "application/json" }, redirect: "manual"
    });
  }

  function flush() {
    if (sending || !navigator.onLine) return Promise.resolve(0);
    var queue = load().filter(function (i) { return !i.failed; });
    if (!queue.length) return Promise.resolve(0);
    sending = true;
    render();
    // what the server now holds, by key: a visit queued twice counts once, and so does one
    // an earlier send stored although its answer was lost on the way back (created: false)
    var held = {};
    var count = function () { return Object.keys(held).length; };
    var next = function (i) {
      if (i >= queue.length) return count();
      var item = queue[i];
      return post(item).then(function (response) {
        var rest = load().filter(function (q) { return q.fields.key !== item.fields.key; });
        if (!response.ok) rest.push(Object.assign(item, { failed: response.status || "login" }));
        save(rest);
        if (response.ok) held[item.fields.key] = true;
        return next(i + 1);
      }, function () { return count(); }); // the connection dropped again: the rest waits
    };
    return next(0).then(function (n) {
      sending = false;
      if (n > 0) sessionStorage.setItem(SENT, String(n));
      if (n > 0 && document.querySelector("form.visit-form, form.complete-form, .open-task")) {
        location.reload(); // the history now holds them
      } else {
        render();
      }
      return n;
    });
  }

  function fields(form) {
    var out = {};
    new FormData(form).forEach(function (value, name) { out[name] = String(value); });
    return out;
  }

  function pageOf(form) {
    var url = new URL(form.action);
    url.pathname = url.pathname.replace(/\/visits$/, "");
    url.searchParams.set("saved", "1");
    url.hash = "unit-" + form.getAttribute("data-unit");
    return url;
  }

  function queueIt(form, data) {
    // the same completion queued twice (its key is the page's) is kept once
    var queue = load().filter(function (q) { return q.fields.key !== data.key; });
    queue.push({ action: form.action, unit: form.getAttribute("data-unit"),
                 task: form.getAttribute("data-task"), fields: data });
    save(queue);
    form.reset();
    form.removeAttribute("data-key");
    render();
  }

  function doneUrl(form) {
    var url = new URL("/cells", location.href);
    var lang = new URL(form.action).searchParams.get("lang");
    if (lang) url.searchParams.set("lang", lang);
    url.searchParams.set("done", form.getAttribute("data-task"));
    return url.href;
  }

  function onComplete(form) {
    if (!form.elements.visited_at.value) form.elements.visited_at.value = new Date().toISOString();
    var data = fields(form); // its key came with the page: a resend completes it once
    if (!navigator.onLine) { queueIt(form, data); return; }
    post({ action: form.action, fields: data }).then(function (response) {
      if (!response.ok) { form.submit(); return; } // the server's page says what is wrong
      location.assign(doneUrl(form));
    }, function () { queueIt(form, data); });
  }

  function onSubmit(event) {
    var form = event.target;
    if (!form.classList) return;
    if (form.classList.contains("complete-form")) { event.preventDefault(); onComplete(form); return; }
    if (!form.classList.contains("visit-form")) return;
    event.preventDefault();
    if (!form.getAttribute("data-key")) form.setAttribute("data-key", uuid());
    form.elements.key.value = form.getAttribute("data-key");
    if (!form.elements.visited_at.value) form.elements.visited_at.value = new Date().toISOString();
    var data = fields(form);
    if (!navigator.onLine) { queueIt(form, data); return; }
    post({ action: form.action, fields: data }).then(function (response) {
      if (!response.ok) { form.submit(); return; } // the server's page says what is wrong
      var url = pageOf(form);
      if (url.href.split("#")[0] === location.href.split("#")[0]) {
        location.hash = url.hash;
        location.reload();
      } else {
        location.assign(url.href);
      }
    }, function () { queueIt(form, data); });
  }

  function locate(button) {
    var form = button.form;
    var out = form.querySelector(".locate-out");
    out.textContent = button.getAttribute("data-asking");
    navigator.geolocation.getCurrentPosition(function (pos) {
      form.elements.lon.value = pos.coords.longitude.toFixed(7);
      form.elements.lat.value = pos.coords.latitude.toFixed(7);
      if (form.elements.accuracy) form.elements.accuracy.value = String(Math.round(pos.coords.accuracy));
      out.textContent = button.getAttribute("data-done").replace("{m}", String(Math.round(pos.coords.accuracy)));
    }, function () {
      out.textContent = button.getAttribute("data-denied");
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  }

  function keepCells() {
    var links = document.querySelectorAll("a.cell-link, a.task-link");
    if (!links.length || !navigator.serviceWorker) return;
    var urls = ["/static/pages/cell-map.js", "/static/pages/tasks.css", "/static/vendor/leaflet/leaflet.js",
                "/static/vendor/leaflet/leaflet.css", location.pathname + location.search];
    Array.prototype.forEach.call(links, function (a) {
      var url = new URL(a.href);
      urls.push(url.pathname + url.search);
      if (a.classList.contains("cell-link")) urls.push(url.pathname + "/map.geojson");
    });
    navigator.serviceWorker.ready.then(function (reg) {
      if (reg.active) reg.active.postMessage({ type: "keep", urls: urls });
    });
  }

  function forgetOnLogout(event) {
    var form = event.target;
    if (!form.action || new URL(form.action).pathname !== "/logout" || !window.caches) return;
    event.preventDefault();
    var gone = false;
    var go = function () { if (!gone) { gone = true; form.submit(); } };
    var sw = navigator.serviceWorker && navigator.serviceWorker.controller;
    if (!sw) { caches.delete("gridmap-pages").then(go, go); return; }
    // the service worker may still be keeping pages: it forgets them and stops keeping
    var timer = setTimeout(go, 2000);
    navigator.serviceWorker.addEventListener("message", function (m) {
      if (m.data && m.data.type === "forget-done") { clearTimeout(timer); go(); }
    });
    sw.postMessage({ type: "forget" });
  }

  document.addEventListener("submit", onSubmit);
  document.addEventListener("submit", forgetOnLogout);
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button.locate-btn");
    if (button) locate(button);
  });
  if (navigator.geolocation) {
    var spots = document.querySelectorAll(".locate");
    for (var i = 0; i < spots.length; i++) spots[i].hidden = false;
  }
  window.addEventListener("online", function () { render(); flush(); });
  window.addEventListener("offline", render);
  setInterval(function () { if (load().length) flush(); }, 30000);
  // a visit refused earlier (a session that had expired) is tried again with this page's login
  save(load().map(function (i) { delete i.failed; return i; }));
  render();
  flush();
  if (navigator.serviceWorker) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function () {
      if (document.readyState === "complete") keepCells();
      else window.addEventListener("load", keepCells);
    }, function () { /* no service worker (private mode): pages still work online */ });
  }
  window.GridMapQueue = { load: load, flush: flush };
})();
