// Package kioskapp is the lobby tablet's app: a progressive web app of plain files — the shell
// (index.html), one script, one stylesheet, a service worker, a manifest and icons — embedded in
// the binary so a kiosk needs nothing but this server, on networks that reach nothing else. There
// is no build step: the files are what the tablet runs (ES2019 for old Android Chrome). api/web
// serves them under /kiosk/ and fills in the placeholders a static file cannot know
// (__AFKAR_FONT_URL__, __AFKAR_APP_VERSION__, __AFKAR_CACHE_VERSION__). The server side of the
// kiosk (pairing, config, batch sync, heartbeat) is package kiosk, one directory up.
//
// The icons' PNGs were rendered once from icon.svg with headless Chromium and are committed.
package kioskapp

import "embed"

// Files holds the app, with paths as served under /kiosk/ (index.html answers /kiosk/ itself).
//
//go:embed index.html app.js app.css sw.js manifest.webmanifest icon.svg icon-192.png icon-512.png
var Files embed.FS
