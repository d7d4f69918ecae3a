/* gridmap's service worker: the worker's cells readable offline.
 * Assets: cache first (the cache name changes with every release). The worker's pages and
 * cell maps (/cells...) and task pages (/tasks/N): network first, the last copy when offline. Visits are never
 * handled here: app.js queues them while offline and sends each once, with its key. */
"use strict";
var VERSION = "__VERSION__";
var SHELL = "gridmap-shell-" + VERSION;
var PAGES = "gridmap-pages";
var SHELL_FILES = ["/static/pages/app.css", "/static/pages/app.js", "/static/pages/icon.svg",
                   "/manifest.webmanifest"];
var OFFLINE = "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\">" +
  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">" +
  "<title>离线 Offline</title><h1>离线 / Offline</h1>" +
  "<p>当前离线，此页尚未保存在手机上。<br>Offline, and this page is not kept on the phone.</p>" +
  "<p><a href=\"/cells\">我的网格 / My cells</a></p></html>";

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL).then(function (c) { return c.addAll(SHELL_FILES); })
    .then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) {
      return k.indexOf("gridmap-shell-") === 0 && k !== SHELL;
    }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

function isAsset(url) {
  return url.pathname.indexOf("/static/") === 0 || url.pathname === "/manifest.webmanifest";
}

function isPage(url) {
  return url.pathname === "/cells" || url.pathname.indexOf("/cells/") === 0 ||
    /^\/tasks\/\d+$/.test(url.pathname); // a task's page, with the form that completes it
}

function cacheFirst(request) {
  return caches.match(request).then(function (hit) {
    if (hit) return hit;
    return fetch(request).then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        caches.open(SHELL).then(function (c) { return c.put(request, copy); });
      }
      return response;
    });
  });
}

function kept(request) {
  return caches.open(PAGES).then(function (cache) {
    return cache.match(request).then(function (hit) {
      return hit || cache.match(request, { ignoreSearch: true });
    });
  });
}

function networkFirst(request) {
  var mine = generation;
  return fetch(request).then(function (response) {
    if (response.ok && !response.redirected && mine === generation) {
      var copy = response.clone();
      caches.open(PAGES).then(function (c) { return c.put(request, copy); });
    }
    return response;
  }, function () {
    return kept(request).then(function (hit) {
      if (hit) return hit;
      if (request.mode === "navigate") {
        return new Response(OFFLINE, { headers: { "content-type": "text/html; charset=utf-8" } });
      }
      return Response.error();
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return; // basemap tiles: straight to the network
  if (isAsset(url)) event.respondWith(cacheFirst(request));
  else if (isPage(url)) event.respondWith(networkFirst(request));
});

// bumped by sign-out: a page still being kept for the old session is dropped, not stored
var generation = 0;

function keep(urls) {
  var mine = generation;
  return Promise.all(urls.map(function (u) {
    var url = new URL(u, self.location.origin);
    if (url.origin !== self.location.origin) return null;
    var name = isAsset(url) ? SHELL : PAGES;
    return fetch(url.href, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok || response.redirected || mine !== generation) return null;
      return caches.open(name).then(function (c) { return c.put(url.href, response); });
    }).catch(function () { return null; });
  }));
}

function forget() {
  generation += 1;
  return caches.delete(PAGES);
}

self.addEventListener("message", function (event) {
  var data = event.data || {};
  var done;
  if (data.type === "keep" && Array.isArray(data.urls)) done = keep(data.urls.slice(0, 200));
  else if (data.type === "forget") done = forget();
  if (done) {
    event.waitUntil(done.then(function () {
      if (event.source) event.source.postMessage({ type: data.type + "-done" });
    }));
  }
});
