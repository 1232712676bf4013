/*
 * Afkar kiosk service worker: keeps the app shell, script, styles, font, manifest and icons in a
 * cache so the tablet starts with no network. The cache name carries a hash of all of them (the
 * server writes it into this file), so a new server version means a new worker, a fresh cache and
 * the old one deleted. API requests are never touched: they always go to the network, and the app
 * keeps answers in IndexedDB until the server has taken them.
 */
'use strict';

var VERSION = '__AFKAR_CACHE_VERSION__';
var CACHE = 'afkar-kiosk-' + VERSION;
var SHELL = '/kiosk/';
var FILES = [
  SHELL,
  '/kiosk/app.js',
  '/kiosk/app.css',
  '/kiosk/manifest.webmanifest',
  '/kiosk/icon.svg',
  '/kiosk/icon-192.png',
  '/kiosk/icon-512.png',
  '__AFKAR_FONT_URL__'
];

self.addEventListener('install', function (event) {
  event.waitUntil(
    caches.open(CACHE).then(function (cache) {
      // cache: 'reload' skips the HTTP cache: the worker stores exactly this version's files.
      return cache.addAll(FILES.map(function (u) { return new Request(u, { cache: 'reload' }); }));
    }).then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener('activate', function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (n) {
        return n.indexOf('afkar-kiosk-') === 0 && n !== CACHE;
      }).map(function (n) { return caches.delete(n); }));
    }).then(function () { return self.clients.claim(); })
  );
});

self.addEventListener('fetch', function (event) {
  var req = event.request;
  if (req.method !== 'GET') return;
  var url = new URL(req.url);
  if (url.origin !== self.location.origin || url.pathname.indexOf('/api/') === 0) return;
  if (req.mode === 'navigate' && url.pathname.indexOf('/kiosk/') === 0) {
    event.respondWith(fromCache(SHELL, req));
    return;
  }
  if (FILES.indexOf(url.pathname) >= 0) event.respondWith(fromCache(url.pathname, req));
});

// fromCache answers from this version's cache, and from the network only when the file is not
// there (a cache cleared by the browser).
function fromCache(path, req) {
  return caches.open(CACHE).then(function (cache) {
    return cache.match(path).then(function (hit) { return hit || fetch(req); });
  });
}
