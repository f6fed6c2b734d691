// Vakt console: the live queue over server-sent events, the alarm sound, ages that tick, and
// the language switch. No libraries; nothing loaded from elsewhere.
'use strict';

(function () {
  // Language switch: remember the choice in a cookie, then reload.
  document.querySelectorAll('a.lang').forEach(function (a) {
    a.addEventListener('click', function (e) {
      e.preventDefault();
      document.cookie = 'vakt_lang=' + a.dataset.lang + '; Path=/; SameSite=Strict; Max-Age=31536000';
      location.reload();
    });
  });

  var audio = null;
  var soundButton = document.getElementById('sound');
  if (soundButton) {
    soundButton.addEventListener('click', function () {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      soundButton.disabled = true;
      beep();
    });
  }
  // Counted so a test can see the alarm was signalled even where no sound can play.
  window.vaktAlerts = 0;
  function beep() {
    window.vaktAlerts++;
    if (!audio) return;
    [0, 0.35, 0.7].forEach(function (at) {
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      osc.type = 'square';
      osc.frequency.value = 880;
      gain.gain.value = 0.15;
      osc.connect(gain).connect(audio.destination);
      osc.start(audio.currentTime + at);
      osc.stop(audio.currentTime + at + 0.2);
    });
  }

  function age(openedUs) {
    var s = Math.max(0, Math.floor((Date.now() * 1000 - openedUs) / 1e6));
    var pad = function (n) { return (n < 10 ? '0' : '') + n; };
    if (s >= 3600) return Math.floor(s / 3600) + ':' + pad(Math.floor(s % 3600 / 60)) + ':' + pad(s % 60);
    return Math.floor(s / 60) + ':' + pad(s % 60);
  }
  setInterval(function () {
    document.querySelectorAll('td.age').forEach(function (td) { td.textContent = age(Number(td.dataset.opened)); });
  }, 1000);

  var rows = document.getElementById('queue-rows');
  var incident = document.querySelector('[data-incident]');
  if (!rows && !incident) return;
  var live = document.getElementById('live');
  var known = null;
  function ids() {
    var set = {};
    if (rows) rows.querySelectorAll('tr[data-id]').forEach(function (tr) { set[tr.dataset.id] = true; });
    return set;
  }
  var source = new EventSource('/queue/events');
  source.addEventListener('open', function () {
    if (live) { live.textContent = live.dataset.on; live.className = 'live on'; }
  });
  source.addEventListener('error', function () {
    if (live) { live.textContent = live.dataset.off; live.className = 'live'; }
  });
  source.addEventListener('rows', function (e) {
    if (!rows) return;
    var before = known || ids();
    rows.innerHTML = e.data;
    var urgent = 0;
    rows.querySelectorAll('tr[data-id]').forEach(function (tr) {
      if (known && !before[tr.dataset.id]) {
        tr.classList.add('new');
        if (Number(tr.dataset.priority) >= 4) urgent++;
      }
    });
    known = ids();
    var open = rows.querySelectorAll('tr[data-id]').length;
    document.title = (open ? '(' + open + ') ' : '') + document.title.replace(/^\(\d+\) /, '');
    if (urgent) beep();
  });
  source.addEventListener('changed', function (e) {
    if (!incident || e.data !== incident.dataset.incident) return;
    var active = document.activeElement;
    var typing = active && (active.tagName === 'INPUT' || active.tagName === 'TEXTAREA') && active.value;
    if (!typing) location.replace(location.pathname);
  });
})();
