/*
 * Afkar lobby kiosk: the tablet app.
 *
 * One file of plain ES2019 (old Android Chrome), no framework, no build step, nothing loaded from
 * anywhere but this server. What it does, in the order a tablet lives it:
 *   - pairing: a staff member types the code from the printed sheet (or scans its QR, which opens
 *     /kiosk/#code=…); the device token is kept in IndexedDB;
 *   - config: the survey, the office hours and the settings are fetched and cached, so the app
 *     starts and runs with no network at all;
 *   - the survey: five faces first, then the other questions one per screen (their show_if
 *     conditions honoured), then a thank-you screen; idle citizens are reset to the start;
 *   - after a low headline rating (the server's contact_offer says which question and how low),
 *     one last screen offers a follow-up call: a number pad, «بله» and an equally big «نه، ممنون»;
 *     the number rides with that answer through the queue and leaves the tablet with it;
 *   - every finished answer gets a UUIDv7 and is written to IndexedDB (strict durability) BEFORE
 *     the thank-you screen; a sync loop sends the queue in batches and deletes only what the
 *     server answered per item (accepted, duplicate or rejected), so each answer is counted once
 *     whatever the network, reloads or restarts do;
 *   - an answer IndexedDB will not take is sent at once, and held in memory if that fails too;
 *     such storage errors and the answers the server rejects are counted, shown in the status
 *     corner and reported by the heartbeat, so staff hear of answers at risk or lost;
 *   - a heartbeat tells the server how the tablet is doing; outside office hours (evaluated here,
 *     in Asia/Tehran, from the cached hours) a sleep screen replaces the faces.
 */
(function () {
  'use strict';

  // SCALE is the faces scale in DOM order, the one place that decides it. The page is dir=rtl, so
  // the first face is at the right, where a Persian reader starts: the scale ascends in reading
  // order, خیلی بد (1) at the right … عالی (5) at the left, as star ratings and number lines run
  // in Persian interfaces (۱ at the right). Colours (Okabe–Ito, blue ↔ orange, see app.css) and
  // a label always go with each face, so colour is never the only cue.
  var SCALE = [
    { value: 1, label: 'خیلی بد' },
    { value: 2, label: 'بد' },
    { value: 3, label: 'متوسط' },
    { value: 4, label: 'خوب' },
    { value: 5, label: 'عالی' }
  ];

  // Mouths (and brows) of the faces, on a 100×100 grid.
  var MOUTH = {
    1: 'M30 74 Q50 52 70 74',
    2: 'M32 70 Q50 60 68 70',
    3: 'M32 66 L68 66',
    4: 'M32 62 Q50 74 68 62',
    5: 'M28 58 Q50 88 72 58 Z'
  };
  var BROWS = { 1: ['M25 33 L41 27', 'M75 33 L59 27'] };

  var DEFAULTS = { idle_seconds: 20, thanks_seconds: 3, min_interval_seconds: 4, heartbeat_seconds: 60, sync_batch: 50 };
  var SYNC_EVERY_MS = 15000; // the sync loop's period when all is well
  var SYNC_CAP_MS = 300000; // the longest wait between attempts after failures
  var CONFIG_EVERY_MS = 600000; // how often the cached config is refreshed
  var ARM_MS = 350; // a new screen ignores presses this long: a double tap does not answer twice
  var REQUEST_TIMEOUT_MS = 20000;
  var SEND_NOW_TIMEOUT_MS = 5000; // how long a citizen may wait while an unstorable answer is sent
  var LOSSES_KEY = 'afkar-kiosk-losses'; // localStorage: rejected answers and storage errors
  var REJECTED_LOG_MAX = 50;
  var DAYS = ['sat', 'sun', 'mon', 'tue', 'wed', 'thu', 'fri'];
  var DAY_FA = { sat: 'شنبه', sun: 'یکشنبه', mon: 'دوشنبه', tue: 'سه‌شنبه', wed: 'چهارشنبه', thu: 'پنجشنبه', fri: 'جمعه' };
  var FA_DIGITS = '۰۱۲۳۴۵۶۷۸۹';
  var PHONE_DIGITS = 11; // an Iranian mobile number as dialled at home: 09xxxxxxxxx

  var versionMeta = document.querySelector('meta[name="afkar-app-version"]');
  var APP_VERSION = versionMeta ? versionMeta.getAttribute('content') : 'dev';

  // ---------------------------------------------------------------- small pure helpers

  // fa writes a number in Persian digits.
  function fa(n) {
    return String(n).replace(/[0-9]/g, function (d) { return FA_DIGITS[+d]; });
  }

  // normalizeCode turns what was typed into a pairing code: Persian and Arabic digits to ASCII,
  // upper case, spaces and dashes removed (the server does the same; doing it here keeps the
  // field readable).
  function normalizeCode(s) {
    return String(s || '')
      .replace(/[\u06F0-\u06F9]/g, function (c) { return String(c.charCodeAt(0) - 0x06F0); })
      .replace(/[\u0660-\u0669]/g, function (c) { return String(c.charCodeAt(0) - 0x0660); })
      .replace(/[\s\-\u2010-\u2015_\u200C]/g, '')
      .toUpperCase();
  }

  // phoneProblem says in Persian what is wrong with a mobile number typed on the pad (ASCII
  // digits), or '' when it has the shape of one: 11 digits starting 09. The server checks it
  // again (cases.Open); a number it refuses leaves the answer stored and opens no case.
  function phoneProblem(d) {
    if (!d) return 'شمارهٔ همراهتان را با صفحه‌کلید بنویسید.';
    if (d.slice(0, 2) !== '09') return 'شمارهٔ همراه باید با ۰۹ شروع شود.';
    if (d.length !== PHONE_DIGITS) return 'شمارهٔ همراه باید ۱۱ رقم باشد؛ اکنون ' + fa(d.length) + ' رقم است.';
    return '';
  }

  // uuidv7 makes a time-ordered UUID (RFC 9562): 48 bits of Unix milliseconds, then random bits
  // from crypto.getRandomValues. Ordered ids keep the queue in answer order.
  function uuidv7() {
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    var ms = Date.now();
    var hi = Math.floor(ms / 0x100000000);
    var lo = ms >>> 0;
    b[0] = (hi >>> 8) & 0xff; b[1] = hi & 0xff;
    b[2] = (lo >>> 24) & 0xff; b[3] = (lo >>> 16) & 0xff; b[4] = (lo >>> 8) & 0xff; b[5] = lo & 0xff;
    b[6] = (b[6] & 0x0f) | 0x70;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = '';
    for (var i = 0; i < 16; i++) {
      h += (b[i] < 16 ? '0' : '') + b[i].toString(16);
      if (i === 3 || i === 5 || i === 7 || i === 9) h += '-';
    }
    return h;
  }

  var TEHRAN = new Intl.DateTimeFormat('en-US', {
    timeZone: 'Asia/Tehran', year: 'numeric', month: '2-digit', day: '2-digit',
    weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23'
  });

  // tehran splits an instant into its Tehran date (Gregorian YYYY-MM-DD), weekday and minute of
  // the day. Intl carries the time-zone rules, so this works offline.
  function tehran(ms) {
    var o = {};
    TEHRAN.formatToParts(new Date(ms)).forEach(function (p) { o[p.type] = p.value; });
    return {
      date: o.year + '-' + o.month + '-' + o.day,
      day: String(o.weekday).slice(0, 3).toLowerCase(),
      minute: (parseInt(o.hour, 10) % 24) * 60 + parseInt(o.minute, 10)
    };
  }

  function minuteOf(hhmm) {
    var p = String(hhmm).split(':');
    return parseInt(p[0], 10) * 60 + parseInt(p[1], 10);
  }

  // isOpen reports whether the office is open at ms: always_open, or not a holiday and inside one
  // of the day's spans [open, close). No hours at all (an old cache) counts as open.
  function isOpen(hours, holidays, ms) {
    if (!hours || hours.always_open) return true;
    var t = tehran(ms);
    if (holidays && holidays.indexOf(t.date) >= 0) return false;
    var weekly = hours.weekly || [];
    for (var i = 0; i < weekly.length; i++) {
      var s = weekly[i];
      if (s.day === t.day && minuteOf(s.open) <= t.minute && t.minute < minuteOf(s.close)) return true;
    }
    return false;
  }

  // hoursText describes the weekly hours in Persian, days with the same spans grouped:
  // «شنبه تا چهارشنبه: ۷:۳۰ تا ۱۴:۳۰».
  function hoursText(hours) {
    if (!hours || hours.always_open || !hours.weekly) return [];
    var clock = function (hhmm) { return fa(String(hhmm).replace(/^0(\d)/, '$1')); };
    var spans = DAYS.map(function (d) {
      return hours.weekly.filter(function (s) { return s.day === d; })
        .sort(function (a, b) { return minuteOf(a.open) - minuteOf(b.open); })
        .map(function (s) { return clock(s.open) + ' تا ' + clock(s.close); }).join(' و ');
    });
    var lines = [];
    for (var i = 0; i < DAYS.length; i++) {
      if (!spans[i]) continue;
      var j = i;
      while (j + 1 < DAYS.length && spans[j + 1] === spans[i]) j++;
      lines.push((j > i ? DAY_FA[DAYS[i]] + ' تا ' + DAY_FA[DAYS[j]] : DAY_FA[DAYS[i]]) + ': ' + spans[i]);
      i = j;
    }
    return lines;
  }

  // met reports whether an earlier answer satisfies a show_if condition (the same rule as the
  // server's survey.Condition.Met).
  function met(c, a) {
    if (!a) return false;
    if (c.op === 'in') {
      var values = c.values || [];
      for (var i = 0; i < values.length; i++) {
        if (a.choices && a.choices.indexOf(values[i]) >= 0) return true;
        if (a.number !== undefined && String(a.number) === values[i]) return true;
      }
      return false;
    }
    if (a.number === undefined) return false;
    var v = c.value || 0;
    switch (c.op) {
      case 'lte': return a.number <= v;
      case 'gte': return a.number >= v;
      case 'eq': return a.number === v;
      case 'ne': return a.number !== v;
    }
    return false;
  }

  // ---------------------------------------------------------------- storage

  // store keeps the token, the cached config and the answer queue in IndexedDB. Where IndexedDB
  // cannot be opened (a locked-down browser) it falls back to memory, so the kiosk still works
  // while the page lives.
  var store = (function () {
    var dbp = null;
    var mem = null;

    function open() {
      if (dbp) return dbp;
      dbp = new Promise(function (resolve, reject) {
        if (!window.indexedDB) { reject(new Error('no IndexedDB')); return; }
        var req = indexedDB.open('afkar-kiosk', 1);
        req.onupgradeneeded = function () {
          var db = req.result;
          if (!db.objectStoreNames.contains('kv')) db.createObjectStore('kv');
          if (!db.objectStoreNames.contains('queue')) db.createObjectStore('queue', { keyPath: 'id' });
        };
        req.onsuccess = function () { resolve(req.result); };
        req.onerror = function () { reject(req.error); };
      }).catch(function (err) {
        console.warn('afkar: IndexedDB unavailable, keeping data in memory', err);
        mem = { kv: new Map(), queue: new Map() };
        return null;
      });
      return dbp;
    }

    // run performs fn on one object store in a transaction and resolves with fn's result once
    // the transaction has committed (with strict durability for writes: on disk, not in cache).
    function run(name, mode, fn) {
      return open().then(function (db) {
        if (!db) return fn(null, mem[name]);
        return new Promise(function (resolve, reject) {
          var tx = mode === 'readwrite' ? db.transaction(name, mode, { durability: 'strict' }) : db.transaction(name, mode);
          var result;
          fn(tx.objectStore(name), null, function (v) { result = v; });
          tx.oncomplete = function () { resolve(result); };
          tx.onerror = function () { reject(tx.error); };
          tx.onabort = function () { reject(tx.error || new Error('transaction aborted')); };
        });
      });
    }

    function req(r, done) { r.onsuccess = function () { done(r.result); }; }

    return {
      get: function (key) {
        return run('kv', 'readonly', function (s, m, done) {
          if (m) return m.get(key);
          req(s.get(key), done);
        });
      },
      set: function (key, value) {
        return run('kv', 'readwrite', function (s, m) {
          if (m) { m.set(key, value); return; }
          s.put(value, key);
        });
      },
      del: function (key) {
        return run('kv', 'readwrite', function (s, m) {
          if (m) { m.delete(key); return; }
          s.delete(key);
        });
      },
      // enqueue stores one answer; it resolves only when the answer is durable, and rejects
      // when it is not (IndexedDB refused it, or there is no IndexedDB: memory is not durable).
      enqueue: function (item) {
        return run('queue', 'readwrite', function (s, m) {
          if (m) throw new Error('no IndexedDB: an answer cannot be stored durably');
          s.put(item);
        });
      },
      // oldest returns up to n queued answers, oldest first (UUIDv7 ids sort by time).
      oldest: function (n) {
        return run('queue', 'readonly', function (s, m, done) {
          if (m) return Array.from(m.values()).sort(function (a, b) { return a.id < b.id ? -1 : 1; }).slice(0, n);
          req(s.getAll(null, n), done);
        });
      },
      remove: function (ids) {
        return run('queue', 'readwrite', function (s, m) {
          ids.forEach(function (id) { if (m) m.delete(id); else s.delete(id); });
        });
      },
      // stats returns how many answers wait and when the oldest was queued.
      stats: function () {
        return run('queue', 'readonly', function (s, m, done) {
          if (m) {
            var all = Array.from(m.values());
            return { count: all.length, oldest: all.reduce(function (o, i) { return Math.min(o, i.queued_at); }, Infinity) };
          }
          var out = { count: 0, oldest: Infinity };
          req(s.count(), function (c) { out.count = c; });
          req(s.openCursor(), function (cur) { if (cur) out.oldest = cur.value.queued_at; done(out); });
        });
      }
    };
  })();

  // losses counts what staff must hear about: answers the server rejected (they are dropped, so
  // never counted; the last REJECTED_LOG_MAX are logged with the server's error code) and answers
  // IndexedDB would not store. It lives in localStorage, apart from IndexedDB, which may be the
  // very thing that is broken; where localStorage fails too it lives in memory. The counts run
  // from the tablet's pairing and go to the server with every heartbeat.
  var losses = (function () {
    var v = { rejected: 0, storage_errors: 0, log: [] };
    try {
      var saved = JSON.parse(localStorage.getItem(LOSSES_KEY) || 'null');
      if (saved && Array.isArray(saved.log)) v = saved;
    } catch (e) { /* no localStorage: memory only */ }

    function save() {
      try { localStorage.setItem(LOSSES_KEY, JSON.stringify(v)); } catch (e) { /* memory only */ }
    }

    return {
      // rejected notes the server's per-item verdict res {id, status: "rejected", error}; a
      // resend of an answer already logged is not counted again.
      rejected: function (res) {
        console.warn('afkar: the server rejected answer', res.id, res.error);
        if (v.log.some(function (l) { return l.id === res.id; })) return;
        v.rejected++;
        v.log.push({ id: res.id, code: (res.error && res.error.code) || '', at: new Date().toISOString() });
        v.log = v.log.slice(-REJECTED_LOG_MAX);
        save();
      },
      storageError: function () { v.storage_errors++; save(); },
      // reset starts the counts afresh for a newly paired tablet.
      reset: function () { v = { rejected: 0, storage_errors: 0, log: [] }; save(); },
      counts: function () { return { rejected: v.rejected, storage_errors: v.storage_errors }; }
    };
  })();

  // held are answers IndexedDB refused and the server has not acknowledged yet: kept in memory
  // and synced like the rest, lost only if the page dies first.
  var held = new Map();

  function byID(a, b) { return a.id < b.id ? -1 : 1; }

  // queue is every answer waiting to be sent, in IndexedDB or held in memory. A storage that
  // cannot be read counts as empty, so the held answers still go out.
  var queue = {
    oldest: function (n) {
      return store.oldest(n).catch(function (err) {
        console.warn('afkar: cannot read the queue', err);
        return [];
      }).then(function (items) {
        return items.concat(Array.from(held.values())).sort(byID).slice(0, n);
      });
    },
    remove: function (ids) {
      ids.forEach(function (id) { held.delete(id); });
      return store.remove(ids);
    },
    stats: function () {
      return store.stats().catch(function () { return { count: 0, oldest: Infinity }; }).then(function (st) {
        held.forEach(function (i) { st.count++; st.oldest = Math.min(st.oldest, i.queued_at); });
        return st;
      });
    }
  };

  // ---------------------------------------------------------------- state

  var state = {
    token: null,
    config: null, // the cached GET /api/v1/kiosk/config answer
    skewMs: 0, // server clock − tablet clock, from the last server answer
    screen: 'boot',
    seq: 0, // bumps on every screen change; handlers of an old screen see a stale seq
    armedAt: 0,
    handled: false, // the current screen has taken its press
    session: null, // the citizen being asked: {survey, answers, pressedAt}
    lastInput: Date.now(),
    online: navigator.onLine !== false,
    lastSyncAt: null,
    reloadPending: false,
    pairMessage: '' // why the pairing screen is up, when it is not the first pairing
  };

  function settings() {
    var s = (state.config && state.config.settings) || {};
    var out = {};
    Object.keys(DEFAULTS).forEach(function (k) { out[k] = s[k] > 0 ? s[k] : DEFAULTS[k]; });
    return out;
  }

  function serverNow() { return Date.now() + state.skewMs; }

  function noteServerTime(iso) {
    var t = Date.parse(iso);
    if (!isNaN(t)) state.skewMs = t - Date.now();
  }

  // ---------------------------------------------------------------- DOM

  var $ = function (id) { return document.getElementById(id); };
  var SVG = 'http://www.w3.org/2000/svg';

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function svg(tag, attrs) {
    var e = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    return e;
  }

  function faceSVG(value) {
    var s = svg('svg', { viewBox: '0 0 100 100', width: '100', height: '100', 'aria-hidden': 'true', focusable: 'false', class: 'face-svg' });
    s.appendChild(svg('circle', { cx: '50', cy: '50', r: '45', class: 'skin' }));
    s.appendChild(svg('circle', { cx: '35', cy: '42', r: '5.5', class: 'eye' }));
    s.appendChild(svg('circle', { cx: '65', cy: '42', r: '5.5', class: 'eye' }));
    (BROWS[value] || []).forEach(function (d) { s.appendChild(svg('path', { d: d, class: 'line' })); });
    s.appendChild(svg('path', { d: MOUTH[value], class: value === 5 ? 'line open' : 'line' }));
    return s;
  }

  var sections = {};
  Array.prototype.forEach.call(document.querySelectorAll('section[data-screen]'), function (s) {
    sections[s.getAttribute('data-screen')] = s;
  });

  // show switches to a screen. Every switch arms a fresh press guard: the new screen ignores
  // presses for ARM_MS (the second half of a double tap lands there), and single-choice screens
  // take one press only. The body's data-current, data-seq and data-armed say which screen is up,
  // which showing of it, and whether it takes presses yet (tests and styles read them).
  function show(name) {
    state.seq++;
    state.armedAt = performance.now() + ARM_MS;
    state.handled = false;
    state.screen = name;
    Object.keys(sections).forEach(function (k) { sections[k].hidden = k !== name; });
    var body = document.body;
    var seq = state.seq;
    body.setAttribute('data-current', name);
    body.setAttribute('data-seq', String(seq));
    body.setAttribute('data-armed', 'false');
    setTimeout(function () { if (state.seq === seq) body.setAttribute('data-armed', 'true'); }, ARM_MS);
  }

  // press wraps the handler of a button that ends its screen (a face, an option, "skip"): it
  // runs at most once per screen, never during the arming delay and never on a stale screen.
  function press(fn) {
    var seq = state.seq;
    return function (ev) {
      if (ev) ev.preventDefault();
      if (seq !== state.seq || state.handled || performance.now() < state.armedAt) return;
      state.handled = true;
      if (ev && ev.currentTarget) ev.currentTarget.classList.add('chosen');
      fn(ev);
    };
  }

  // armed is the guard for presses that do not end the screen (toggling an option).
  function armed(fn) {
    var seq = state.seq;
    return function (ev) {
      if (seq !== state.seq || state.handled || performance.now() < state.armedAt) return;
      fn(ev);
    };
  }

  function button(cls, text, attrs) {
    var b = el('button', Object.assign({ type: 'button', class: cls }, attrs || {}));
    if (text !== undefined) b.appendChild(el('span', { class: 'label' }, text));
    return b;
  }

  function facesInto(box, onPick) {
    box.textContent = '';
    SCALE.forEach(function (s) {
      var b = el('button', { type: 'button', class: 'face', 'data-rating': String(s.value), 'aria-label': s.label + '، ' + fa(s.value) + ' از ۵' });
      b.appendChild(faceSVG(s.value));
      b.appendChild(el('span', { class: 'label', 'aria-hidden': 'true' }, s.label));
      b.addEventListener('click', press(function () { onPick(s.value); }));
      box.appendChild(b);
    });
  }

  // ---------------------------------------------------------------- the survey

  function kiosk() { return (state.config && state.config.kiosk) || {}; }

  function asked(q) {
    if (q.type === 'text') return !!kiosk().free_text;
    return q.type === 'rating5' || q.type === 'nps' || q.type === 'yesno' || (q.type === 'choice' && q.options && q.options.length > 0);
  }

  function visible(sess, q) {
    return !q.show_if || met(q.show_if, sess.answers[q.show_if.question_id]);
  }

  // nextIndex finds the next question after i the citizen should see, or -1 at the end.
  function nextIndex(sess, i) {
    var qs = sess.survey.questions || [];
    for (var j = i + 1; j < qs.length; j++) {
      if (asked(qs[j]) && visible(sess, qs[j])) return j;
    }
    return -1;
  }

  // atStart reports whether the kiosk waits for a citizen (nobody is answering): it may then
  // change screens on its own.
  function atStart() {
    var s = state.screen;
    return s === 'sleep' || s === 'wait' || (s === 'rating' && !!state.session && !state.session.pressedAt);
  }

  // goStart puts the kiosk back where a citizen finds it: the faces, or the sleep screen when the
  // office is closed, or pairing/waiting when it cannot ask yet.
  function goStart() {
    state.session = null;
    if (state.reloadPending) { location.reload(); return; }
    if (!state.token) { showPair(state.pairMessage); return; }
    var cfg = state.config;
    if (!cfg || !cfg.survey || !cfg.survey.questions) { show('wait'); return; }
    if (!isOpen(cfg.hours, cfg.holidays_gregorian, serverNow())) { showSleep(); return; }
    var sess = { survey: cfg.survey, answers: {}, pressedAt: null };
    var first = nextIndex(sess, -1);
    if (first < 0) { show('wait'); return; }
    state.session = sess;
    ask(first, true);
  }

  function showSleep() {
    var cfg = state.config;
    var holiday = (cfg.holidays_gregorian || []).indexOf(tehran(serverNow()).date) >= 0;
    $('sleep-title').textContent = holiday ? 'امروز اداره تعطیل است' : 'اکنون ساعت کاری نیست';
    var box = $('sleep-hours');
    box.textContent = '';
    hoursText(state.config.hours).forEach(function (line) { box.appendChild(el('span', {}, line)); });
    show('sleep');
  }

  // answer records the answer to question i and moves on.
  function answer(i, a) {
    var sess = state.session;
    if (!sess) return;
    var q = sess.survey.questions[i];
    if (a) sess.answers[q.id] = a;
    if (!sess.pressedAt) sess.pressedAt = new Date();
    var next = nextIndex(sess, i);
    if (next < 0) finish(true);
    else ask(next, false);
  }

  function ask(i, first) {
    var q = state.session.survey.questions[i];
    if (first && q.type === 'rating5') {
      var k = kiosk();
      $('rating-agency').textContent = [k.agency_name, k.office_name].filter(Boolean).join(' — ');
      $('rating-title').textContent = q.title;
      show('rating');
      facesInto($('rating-faces'), function (v) { answer(i, { number: v }); });
      return;
    }
    show('question');
    $('question-title').textContent = q.title;
    var body = $('question-body');
    var actions = $('question-actions');
    body.textContent = '';
    actions.textContent = '';
    body.className = 'answers type-' + q.type + (q.multiple ? ' multiple' : '');
    var next = function (a) { return press(function () { answer(i, a); }); };

    if (q.type === 'rating5') {
      facesInto(body, function (v) { answer(i, { number: v }); });
    } else if (q.type === 'nps') {
      var row = el('div', { class: 'nps-row' });
      for (var n = 0; n <= 10; n++) {
        var b = button('choice nps', fa(n), { 'data-value': String(n), 'aria-label': fa(n) + ' از ۱۰' });
        b.addEventListener('click', next({ number: n }));
        row.appendChild(b);
      }
      body.appendChild(row);
      var ends = el('div', { class: 'nps-ends', 'aria-hidden': 'true' });
      ends.appendChild(el('span', {}, '۰: به‌هیچ‌وجه'));
      ends.appendChild(el('span', {}, '۱۰: حتماً'));
      body.appendChild(ends);
    } else if (q.type === 'yesno') {
      [[1, 'بله'], [0, 'خیر']].forEach(function (o) {
        var b = button('choice', o[1], { 'data-value': String(o[0]) });
        b.addEventListener('click', next({ number: o[0] }));
        body.appendChild(b);
      });
    } else if (q.type === 'choice' && !q.multiple) {
      q.options.forEach(function (o) {
        var b = button('choice', o.label, { 'data-value': o.id });
        b.addEventListener('click', next({ choices: [o.id] }));
        body.appendChild(b);
      });
    } else if (q.type === 'choice') {
      var chosen = [];
      var ok = button('primary', 'تأیید');
      var sync = function () { ok.disabled = q.required && chosen.length === 0; };
      q.options.forEach(function (o) {
        var b = button('choice', o.label, { 'data-value': o.id, 'aria-pressed': 'false' });
        b.addEventListener('click', armed(function () {
          var at = chosen.indexOf(o.id);
          if (at >= 0) chosen.splice(at, 1); else chosen.push(o.id);
          b.setAttribute('aria-pressed', at >= 0 ? 'false' : 'true');
          sync();
        }));
        body.appendChild(b);
      });
      ok.addEventListener('click', press(function () { answer(i, chosen.length ? { choices: chosen.slice() } : null); }));
      sync();
      actions.appendChild(ok);
    } else if (q.type === 'text') {
      var max = q.max_length > 0 ? q.max_length : 500;
      var area = el('textarea', { maxlength: String(max), rows: '4', 'aria-label': q.title, dir: 'auto' });
      var counter = el('span', { class: 'counter', 'aria-hidden': 'true' }, fa(0) + ' / ' + fa(max));
      area.addEventListener('input', function () { counter.textContent = fa(area.value.length) + ' / ' + fa(max); });
      body.appendChild(area);
      body.appendChild(counter);
      var send = button('primary', 'ارسال');
      if (q.required) {
        send.disabled = true;
        area.addEventListener('input', function () { send.disabled = !area.value.trim(); });
      }
      send.addEventListener('click', press(function () {
        var text = area.value.trim();
        answer(i, text ? { text: text } : null);
      }));
      actions.appendChild(send);
    }
    if (!q.required && !(q.type === 'choice' && q.multiple)) {
      var skip = button('secondary', 'رد شدن');
      skip.addEventListener('click', next(null));
      actions.appendChild(skip);
    }
  }

  // complete reports whether every required question the citizen saw or would see is answered:
  // only then is an abandoned session worth keeping.
  function complete(sess) {
    var qs = sess.survey.questions;
    var any = false;
    for (var i = 0; i < qs.length; i++) {
      if (!asked(qs[i]) || !visible(sess, qs[i])) continue;
      if (sess.answers[qs[i].id]) any = true;
      else if (qs[i].required) return false;
    }
    return any;
  }

  // item turns a session into one queued answer in the shape of POST /api/v1/kiosk/responses.
  function item(sess) {
    var answers = [];
    sess.survey.questions.forEach(function (q) {
      var a = sess.answers[q.id];
      if (!a || !visible(sess, q)) return;
      if (a.text !== undefined) answers.push({ question_id: q.id, text: a.text });
      else if (a.choices) answers.push({ question_id: q.id, value: q.multiple ? a.choices : a.choices[0] });
      else answers.push({ question_id: q.id, value: a.number });
    });
    return {
      id: uuidv7(),
      survey_id: sess.survey.id,
      survey_version: sess.survey.version,
      submitted_at: (sess.pressedAt || new Date()).toISOString(),
      answers: answers,
      queued_at: Date.now()
    };
  }

  // finish makes the session's answers safe (keep), and only then thanks the citizen. A citizen
  // who finished (thank) after a low headline rating is first offered a follow-up call
  // (askContact), which comes back here with the number or without it; a citizen who walks away
  // (thank false, the idle clock) is never asked and never thanked.
  function finish(thank) {
    var sess = state.session;
    if (thank && sess && !sess.contactAsked && complete(sess) && offersContact(sess)) {
      sess.contactAsked = true;
      askContact(sess);
      return;
    }
    state.session = null;
    if (!sess || !complete(sess)) { goStart(); return; }
    var it = item(sess);
    if (sess.contact) it.contact = sess.contact;
    sess.contact = null;
    keep(it).then(function () {
      updateStatus();
      syncSoon();
      if (!thank) { goStart(); return; }
      // The thank-you screen stays at least thanks_seconds, and until min_interval_seconds have
      // passed since this citizen's first press: the next citizen's press then never looks like
      // ballot stuffing to the server's interval rule. After consent it also says that someone
      // will call and where formal complaints go, which takes longer to read.
      var st = settings();
      var hold = Math.max(st.thanks_seconds * 1000, st.min_interval_seconds * 1000 - (Date.now() - sess.pressedAt.getTime()));
      var called = !!it.contact;
      var offer = contactOffer();
      $('thanks-case').hidden = !called;
      $('thanks-notice').textContent = called && offer ? offer.complaint_notice || '' : '';
      $('thanks-notice').hidden = !$('thanks-notice').textContent;
      if (called) hold = Math.max(hold, 3 * st.thanks_seconds * 1000);
      show('thanks');
      var seq = state.seq;
      setTimeout(function () { if (state.seq === seq) goStart(); }, hold);
    });
  }

  // contactOffer is the server's rule for offering a follow-up call, or null: none on this
  // server, or the survey has no rating to judge by.
  function contactOffer() {
    var o = state.config && state.config.contact_offer;
    return o && o.question_id && o.max_rating > 0 ? o : null;
  }

  // offersContact reports whether this citizen's headline rating is low enough for the offer:
  // the same question and threshold the server uses to open a case.
  function offersContact(sess) {
    var o = contactOffer();
    if (!o || !state.token) return false;
    var a = sess.answers[o.question_id];
    return !!a && typeof a.number === 'number' && a.number >= 1 && a.number <= o.max_rating;
  }

  // askContact shows the offer of a follow-up call. The number is typed on the screen's own pad
  // (no system keyboard), kept in this closure only, and handed to finish with the consent when
  // the citizen presses «بله» with a well-formed number; «نه، ممنون» thanks them without one;
  // the idle clock sends the answers without a number and goes back to the start. Keys on a
  // hardware keyboard (Persian or ASCII digits, Backspace, Enter) work too, for accessibility.
  function askContact(sess) {
    show('contact');
    var digits = '';
    var out = $('contact-number');
    var msg = $('contact-message');
    var pad = $('contact-pad');
    var draw = function () {
      out.textContent = digits ? fa(digits) : '';
      out.setAttribute('data-digits', digits);
      out.setAttribute('aria-label', digits ? 'شمارهٔ همراه: ' + fa(digits).split('').join(' ') : 'شمارهٔ همراه، هنوز خالی');
    };
    var type = armed(function (d) {
      msg.textContent = '';
      if (d === 'back') digits = digits.slice(0, -1);
      else if (d === 'clear') digits = '';
      else if (digits.length < PHONE_DIGITS) digits += d;
      else msg.textContent = 'شمارهٔ همراه ۱۱ رقم است.';
      draw();
    });
    pad.textContent = '';
    ['1', '2', '3', '4', '5', '6', '7', '8', '9', 'clear', '0', 'back'].forEach(function (k) {
      var label = k === 'back' ? '⌫' : k === 'clear' ? 'پاک' : fa(k);
      var aria = k === 'back' ? 'پاک کردن آخرین رقم' : k === 'clear' ? 'پاک کردن همهٔ رقم‌ها' : fa(k);
      var b = button('key' + (k.length > 1 ? ' fn' : ''), label, { 'data-key': k, 'aria-label': aria });
      b.addEventListener('click', function () { type(k); });
      pad.appendChild(b);
    });
    var yes = $('contact-yes');
    var no = $('contact-no');
    var seq = state.seq;
    var submit = armed(function () {
      var problem = phoneProblem(digits);
      if (problem) { msg.textContent = problem; return; }
      state.handled = true;
      yes.classList.add('chosen');
      sess.contact = { phone: digits, consent: true };
      digits = '';
      draw();
      finish(true);
    });
    yes.onclick = function (ev) { ev.preventDefault(); submit(); };
    no.onclick = press(function () { digits = ''; draw(); finish(true); });
    // Keys from a hardware keyboard, while this showing of the screen is up.
    var onKey = function (ev) {
      if (state.seq !== seq) { document.removeEventListener('keydown', onKey, true); return; }
      var k = ev.key || '';
      var d = normalizeCode(k);
      if (/^[0-9]$/.test(d)) { ev.preventDefault(); type(d); }
      else if (k === 'Backspace') { ev.preventDefault(); type('back'); }
      else if (k === 'Enter' && ev.target === document.body) { ev.preventDefault(); submit(); }
    };
    document.addEventListener('keydown', onKey, true);
    msg.textContent = '';
    draw();
  }

  // keep makes one answer safe before the citizen is thanked: written to IndexedDB; or, when
  // IndexedDB refuses it (quota full, private mode, a broken database), counted as a storage
  // error and sent at once, alone; or, when the server does not acknowledge it within
  // SEND_NOW_TIMEOUT_MS, held in memory and synced with the rest.
  //
  // What the citizen sees, decided: the ordinary thank-you screen in every case, with no notice.
  // Their answer has been taken — acknowledged, or held and sent within seconds of the network
  // returning — and only a dead page (a reload, a crash) before then would lose it. A citizen can
  // do nothing about the tablet's storage, and a warning would only make them doubt that
  // answering is worth it. Staff are told instead: the status corner shows the storage errors
  // (and the held answers in its queue count), and every heartbeat reports storage_errors, which
  // the fleet list shows. An answer the server rejects at once is logged like any rejected one.
  function keep(it) {
    return store.enqueue(it).then(null, function (err) {
      console.warn('afkar: could not store an answer; sending it at once', err);
      losses.storageError();
      return sendNow(it);
    });
  }

  function sendNow(it) {
    if (!state.token) { held.set(it.id, it); return Promise.resolve(); }
    return call('POST', '/api/v1/kiosk/responses', batch([it]), SEND_NOW_TIMEOUT_MS).then(function (r) {
      var res = r.ok && r.data && r.data.results && r.data.results[0];
      if (!res || res.id !== it.id) { held.set(it.id, it); return; }
      noteServerSkew(r.data);
      if (res.status === 'rejected') losses.rejected(res);
      else if (res.status !== 'accepted' && res.status !== 'duplicate') held.set(it.id, it);
    }, function () { held.set(it.id, it); });
  }

  // ---------------------------------------------------------------- network

  // call sends one JSON request to the server. It never throws for an HTTP status; a network
  // failure or a timeout rejects.
  function call(method, path, body, timeoutMs) {
    var headers = { Accept: 'application/json' };
    if (state.token) headers.Authorization = 'Bearer ' + state.token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    var ctl = window.AbortController ? new AbortController() : null;
    var timer = ctl ? setTimeout(function () { ctl.abort(); }, timeoutMs || REQUEST_TIMEOUT_MS) : 0;
    return fetch(path, {
      method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store', credentials: 'omit', redirect: 'error', signal: ctl ? ctl.signal : undefined
    }).then(function (res) {
      return res.text().then(function (txt) {
        var data = null;
        try { data = txt ? JSON.parse(txt) : null; } catch (e) { data = null; }
        return { status: res.status, ok: res.ok, data: data };
      });
    }).then(function (r) {
      clearTimeout(timer);
      setOnline(true);
      return r;
    }, function (err) {
      clearTimeout(timer);
      setOnline(false);
      throw err;
    });
  }

  function errorText(r) {
    var e = r && r.data && r.data.error;
    if (!e) return 'پاسخ سرور قابل خواندن نبود. دوباره تلاش کنید.';
    var fields = e.fields || {};
    var f = fields.code || fields[Object.keys(fields)[0]];
    return (f && f.message_fa) || e.message_fa || e.message || 'خطا';
  }

  // unauthorized: the token was revoked or replaced. Back to pairing — at once on the start
  // screen, after the citizen on any other — and the queue stays, to be sent once the tablet is
  // paired again.
  function unauthorized() {
    state.token = null;
    state.pairMessage = 'اتصال این کیوسک لغو شده است؛ برای ادامه، آن را با کد جفت‌سازی تازه‌ای دوباره راه‌اندازی کنید.';
    store.del('token');
    if (atStart()) goStart();
  }

  function showPair(message) {
    show('pair');
    $('pair-message').textContent = message || '';
    $('pair-submit').disabled = false;
  }

  function pair(code) {
    code = normalizeCode(code);
    var msg = $('pair-message');
    var input = $('pair-code');
    input.value = code;
    if (!code) { msg.textContent = 'کد جفت‌سازی را وارد کنید.'; return Promise.resolve(); }
    $('pair-submit').disabled = true;
    msg.textContent = 'در حال اتصال…';
    var saved = state.token;
    state.token = null; // the pair call carries no credentials
    return call('POST', '/api/v1/kiosk/pair', { code: code }).then(function (r) {
      if (!r.ok || !r.data || !r.data.token) {
        state.token = saved;
        $('pair-submit').disabled = false;
        msg.textContent = errorText(r);
        return;
      }
      state.token = r.data.token;
      state.pairMessage = '';
      losses.reset();
      return store.set('token', state.token).then(function () {
        msg.textContent = 'کیوسک وصل شد؛ در حال دریافت پرسشنامه…';
        return refreshConfig();
      }).then(function () {
        goStart();
        syncNow();
        heartbeat();
      });
    }, function () {
      state.token = saved;
      $('pair-submit').disabled = false;
      msg.textContent = 'اتصال به سرور برقرار نشد؛ شبکه را بررسی و دوباره تلاش کنید.';
    });
  }

  // refreshConfig fetches the survey, hours and settings and caches them; on failure the cached
  // copy stays in use.
  function refreshConfig() {
    if (!state.token) return Promise.resolve(false);
    return call('GET', '/api/v1/kiosk/config').then(function (r) {
      if (r.status === 401) { unauthorized(); return false; }
      if (!r.ok || !r.data || !r.data.survey) return false;
      var was = state.config;
      state.config = r.data;
      noteServerTime(r.data.server_time);
      if (atStart() && asKept(was) !== asKept(r.data)) goStart();
      return store.set('config', r.data).then(function () { return true; });
    }, function () { return false; });
  }

  // asKept is what of a config changes the screen (not the server's clock).
  function asKept(cfg) {
    return cfg ? JSON.stringify([cfg.kiosk, cfg.survey, cfg.hours, cfg.holidays_gregorian, cfg.settings]) : '';
  }

  // The sync loop: on start, when the network returns, after each answer, and every 15 s; after a
  // failure the wait doubles (with jitter) up to 5 minutes. Only a per-item result removes an
  // answer from the queue; a network error or a 5xx keeps the whole batch for the next attempt.
  var sync = { running: null, again: false, failures: 0, timer: 0, batch: 0 };

  function scheduleSync(ms) {
    clearTimeout(sync.timer);
    sync.timer = setTimeout(syncNow, ms);
  }

  function syncSoon() { setTimeout(syncNow, 0); }

  function syncNow() {
    if (sync.running) { sync.again = true; return sync.running; }
    sync.running = (function loop() {
      sync.again = false;
      return syncBatches().then(function (ok) {
        if (ok) {
          sync.failures = 0;
          if (sync.again) return loop();
          scheduleSync(SYNC_EVERY_MS);
        } else {
          sync.failures++;
          var wait = Math.min(SYNC_CAP_MS, SYNC_EVERY_MS * Math.pow(2, sync.failures - 1));
          scheduleSync(wait / 2 + Math.random() * wait / 2);
        }
      });
    })().then(function () { sync.running = null; }, function (err) {
      console.error('afkar: sync', err);
      sync.running = null;
      scheduleSync(SYNC_EVERY_MS);
    });
    return sync.running;
  }

  // syncBatches sends the queue, oldest first, until it is empty; false means "try later".
  function syncBatches() {
    if (!state.token) return Promise.resolve(true);
    var size = sync.batch || Math.min(100, settings().sync_batch);
    return queue.oldest(size).then(function (items) {
      if (!items.length) return true;
      return call('POST', '/api/v1/kiosk/responses', batch(items)).then(function (r) {
        if (r.status === 401) { unauthorized(); return true; }
        if (r.status === 413 && size > 1) { sync.batch = Math.max(1, Math.floor(size / 2)); return syncBatches(); }
        if (!r.ok || !r.data || !r.data.results) return false;
        noteServerSkew(r.data);
        var done = [];
        r.data.results.forEach(function (res) {
          if (res.status === 'accepted' || res.status === 'duplicate' || res.status === 'rejected') done.push(res.id);
          if (res.status === 'rejected') losses.rejected(res);
        });
        state.lastSyncAt = new Date().toISOString();
        // Remembering the sync time is a nicety: a storage that refuses it must not stop the
        // queue from emptying.
        return store.set('last_sync_at', state.lastSyncAt).catch(function () {})
          .then(function () { return queue.remove(done); })
          .then(function () {
            updateStatus();
            if (!done.length) return false;
            return items.length === size ? syncBatches() : true;
          });
      }, function () { return false; });
    });
  }

  // batch is the body of POST /api/v1/kiosk/responses for queued answers.
  function batch(items) {
    return {
      sent_at: new Date().toISOString(),
      items: items.map(function (i) {
        var b = { id: i.id, survey_id: i.survey_id, survey_version: i.survey_version, submitted_at: i.submitted_at, answers: i.answers };
        if (i.contact) b.contact = i.contact;
        return b;
      })
    };
  }

  function noteServerSkew(data) {
    if (typeof data.skew_ms === 'number') state.skewMs = data.skew_ms;
  }

  // heartbeat reports the tablet's state every heartbeat_seconds.
  var heartbeatTimer = 0;
  function heartbeat() {
    clearTimeout(heartbeatTimer);
    heartbeatTimer = setTimeout(heartbeat, settings().heartbeat_seconds * 1000);
    if (!state.token) return Promise.resolve();
    return Promise.all([queue.stats(), battery()]).then(function (v) {
      var st = v[0];
      var lost = losses.counts();
      return call('POST', '/api/v1/kiosk/heartbeat', {
        rejected: lost.rejected,
        storage_errors: lost.storage_errors,
        app_version: APP_VERSION,
        queued: st.count,
        oldest_queued_s: st.count ? Math.max(0, Math.floor((Date.now() - st.oldest) / 1000)) : 0,
        last_sync_at: state.lastSyncAt,
        clock: new Date().toISOString(),
        battery: v[1]
      });
    }).then(function (r) {
      if (r.status === 401) unauthorized();
      else if (r.ok && r.data) noteServerTime(r.data.server_time);
    }, function () { /* offline: the next beat tries again */ });
  }

  function battery() {
    if (!navigator.getBattery) return Promise.resolve(null);
    return navigator.getBattery().then(function (b) {
      return { level: Math.round(b.level * 100) / 100, charging: !!b.charging };
    }, function () { return null; });
  }

  // ---------------------------------------------------------------- status corner

  function setOnline(on) {
    if (state.online === on) return;
    state.online = on;
    updateStatus();
  }

  // updateStatus redraws the status corner: the connection, the queued answers, and — for staff,
  // in a small amber mark — the answers the server rejected and the storage errors.
  function updateStatus() {
    return queue.stats().then(function (st) {
      var box = $('status');
      var online = state.online && navigator.onLine !== false;
      var lost = losses.counts();
      box.setAttribute('data-queued', String(st.count));
      box.setAttribute('data-online', online ? 'true' : 'false');
      box.setAttribute('data-rejected', String(lost.rejected));
      box.setAttribute('data-storage-errors', String(lost.storage_errors));
      $('status-count').textContent = st.count ? fa(st.count) : '';
      var mark = [];
      var said = [];
      if (lost.rejected) { mark.push('ردشده ' + fa(lost.rejected)); said.push(fa(lost.rejected) + ' پاسخ ردشده از سوی سرور'); }
      if (lost.storage_errors) { mark.push('خطای ذخیره ' + fa(lost.storage_errors)); said.push(fa(lost.storage_errors) + ' خطای ذخیره‌سازی'); }
      var alert = $('status-alert');
      alert.textContent = mark.join('، ');
      alert.hidden = !mark.length;
      var text = (online ? 'متصل' : 'بدون اتصال') + (st.count ? '، ' + fa(st.count) + ' پاسخ در صف ارسال' : '') +
        (said.length ? '، ' + said.join('، ') : '');
      box.setAttribute('aria-label', text);
      box.setAttribute('title', text);
    });
  }

  // ---------------------------------------------------------------- wiring

  // Immediate feedback: the button looks pressed on pointerdown (CSS :active does the same for
  // browsers that delay it), well before the click is handled.
  document.addEventListener('pointerdown', function (ev) {
    state.lastInput = Date.now();
    var b = ev.target.closest ? ev.target.closest('button') : null;
    if (b) b.classList.add('pressed');
  }, true);
  ['pointerup', 'pointercancel'].forEach(function (type) {
    document.addEventListener(type, function () {
      setTimeout(function () {
        Array.prototype.forEach.call(document.querySelectorAll('.pressed'), function (b) { b.classList.remove('pressed'); });
      }, 120);
    }, true);
  });
  ['keydown', 'input'].forEach(function (type) {
    document.addEventListener(type, function () { state.lastInput = Date.now(); }, true);
  });
  document.addEventListener('contextmenu', function (ev) { ev.preventDefault(); });

  $('pair-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    pair($('pair-code').value);
  });

  window.addEventListener('online', function () {
    setOnline(true);
    sync.failures = 0;
    syncNow();
    refreshConfig();
    heartbeat();
  });
  window.addEventListener('offline', function () { setOnline(false); });
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'visible') { syncNow(); keepAwake(); }
  });

  // The clock: reset an idle citizen, and switch between faces and sleep when the office opens
  // or closes (only while nobody is answering).
  setInterval(function () {
    var idle = Date.now() - state.lastInput > settings().idle_seconds * 1000;
    var busy = state.session && state.session.pressedAt;
    if (busy && idle && (state.screen === 'rating' || state.screen === 'question' || state.screen === 'contact')) {
      finish(false);
      return;
    }
    if (state.config && atStart() && state.screen !== 'wait') {
      var open = isOpen(state.config.hours, state.config.holidays_gregorian, serverNow());
      if (open !== (state.screen === 'rating')) goStart();
    }
  }, 1000);
  setInterval(refreshConfig, CONFIG_EVERY_MS);

  var wakeLock = null;
  function keepAwake() {
    if (!navigator.wakeLock || wakeLock) return;
    navigator.wakeLock.request('screen').then(function (l) {
      wakeLock = l;
      l.addEventListener('release', function () { wakeLock = null; });
    }, function () { /* not allowed here: the tablet's own settings keep it awake */ });
  }

  // The service worker makes the app start offline. A new server version installs a new worker
  // (its cache name carries the assets' hash); the page reloads into it at the next start screen,
  // never in the middle of a citizen's answers.
  function registerWorker() {
    if (!('serviceWorker' in navigator)) return;
    var hadController = !!navigator.serviceWorker.controller;
    navigator.serviceWorker.addEventListener('controllerchange', function () {
      if (!hadController) { hadController = true; return; }
      state.reloadPending = true;
      if (!state.session && state.screen !== 'thanks' && state.screen !== 'pair') goStart();
    });
    navigator.serviceWorker.register('/kiosk/sw.js', { scope: '/kiosk/' }).then(function (reg) {
      setInterval(function () { reg.update().catch(function () {}); }, 3600000);
    }, function (err) { console.warn('afkar: service worker', err); });
  }

  function boot() {
    registerWorker();
    keepAwake();
    var m = /[#&]code=([^&]+)/.exec(location.hash);
    var code = m ? decodeURIComponent(m[1]) : '';
    if (m) history.replaceState(null, '', location.pathname + location.search);
    Promise.all([store.get('token'), store.get('config'), store.get('last_sync_at')]).then(function (v) {
      state.token = v[0] || null;
      state.config = v[1] || null;
      state.lastSyncAt = v[2] || null;
      updateStatus();
      if (code) {
        showPair('');
        $('pair-code').value = normalizeCode(code);
        return pair(code);
      }
      goStart();
      if (!state.token) return;
      refreshConfig().then(function () { if (state.screen === 'wait') goStart(); });
      syncNow();
      heartbeat();
    });
  }

  // For the browser tests: the pure parts, to check them against the server's rules.
  window.afkarKiosk = { isOpen: isOpen, uuidv7: uuidv7, normalizeCode: normalizeCode, met: met, hoursText: hoursText, scale: SCALE, phoneProblem: phoneProblem };

  boot();
})();
