// Benchmarks of the operator's screen, in Debian's Chromium (not a test: it prints figures).
//
// 1. Signal to screen: with a console's live queue open and 100 signals per second of
//    background traffic (periodic test reports that open nothing), a burglary is sent every
//    few hundred milliseconds from another site; the time from writing its frame to its row
//    appearing in the open queue is taken in the page. p50 and p99 over all alarms.
// 2. The queue with 10,000 open incidents: a fresh page load of /queue, from navigation start
//    to the server's last byte, to DOMContentLoaded and to the first contentful paint.
//
// Run: scripts/bench-console.sh (builds the release binary first).
import { startVakt, api, sendSia, browser, signIn } from '../harness.mjs';

const PASSWORD = 'ett långt lösenord';
const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const BINARY = args.binary ?? new URL('../../target/release/vakt', import.meta.url).pathname;
const BACKGROUND_PER_S = Number(args.background ?? 100);
const ALARMS = Number(args.alarms ?? 200);
const ALARM_EVERY_MS = Number(args['alarm-every-ms'] ?? 250);
const OPEN = Number(args.open ?? 10000);
const LOADS = Number(args.loads ?? 5);
const BACKGROUND_ACCOUNTS = 100;
const IMPORT_CHUNK = 2000;
const SEND_CONCURRENCY = 16;
const SEND_TRIES = 5;

const say = (what) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${what}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const hex = (n) => n.toString(16).toUpperCase();

function percentile(sorted, q) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.round((sorted.length - 1) * q))];
}

async function register(vakt, accounts, name) {
  for (let i = 0; i < accounts.length; i += IMPORT_CHUNK) {
    await api(vakt, 'POST', '/api/v1/transmitters', accounts.slice(i, i + IMPORT_CHUNK).map((account) => ({
      account, site_name: name(account), site_address: 'Benchmarkgatan 1, Uppsala', supervision_interval_s: 86400,
    })));
  }
  await sleep(2000); // the receiver reloads its registry every second by default
}

async function sendAll(vakt, frames) {
  let next = 0;
  const worker = async () => {
    while (next < frames.length) {
      const [account, sequence, data] = frames[next++];
      // As a panel does: send again when the connection fails or no ACK comes.
      for (let attempt = 1; ; attempt++) {
        const answer = await sendSia(vakt, account, sequence, data).catch((e) => String(e));
        if (answer.includes('"ACK"')) break;
        if (attempt === SEND_TRIES) throw new Error(`${account} not acknowledged: ${answer}`);
        await sleep(100 * attempt);
      }
    }
  };
  await Promise.all(Array.from({ length: SEND_CONCURRENCY }, worker));
}

async function openCount(vakt) {
  return (await api(vakt, 'GET', '/api/v1/incidents')).incidents.length;
}

async function signalToScreen(vakt, chromium) {
  const background = Array.from({ length: BACKGROUND_ACCOUNTS }, (_, i) => `B${hex(0x1000 + i)}`);
  const alarmed = Array.from({ length: ALARMS }, (_, i) => `A${hex(0x1000 + i)}`);
  say('registering the background and alarm sites');
  await register(vakt, [...background, ...alarmed], (account) => `Mätobjekt ${account}`);
  say('opening the queue');
  const context = await chromium.newContext();
  const page = await signIn(context, vakt, 'olle', PASSWORD);
  await page.goto(vakt.base + '/queue');
  await page.waitForFunction(() => document.getElementById('live')?.classList.contains('on') ?? true);
  await page.evaluate(() => {
    window.pending = new Map();
    window.seen = new Map();
    const rows = document.getElementById('queue-rows');
    new MutationObserver(() => {
      const at = performance.timeOrigin + performance.now();
      if (window.pending.size === 0) return;
      const text = rows.textContent;
      for (const name of [...window.pending.keys()]) {
        if (text.includes(name)) { window.seen.set(name, at); window.pending.delete(name); }
      }
    }).observe(rows, { childList: true, subtree: true, characterData: true });
  });

  // Background: periodic test reports, evenly spread, from their own accounts.
  let running = true;
  let backgroundSent = 0;
  const backgroundLoop = (async () => {
    const interval = 1000 / BACKGROUND_PER_S;
    const started = performance.now();
    let sequence = 0;
    while (running) {
      const due = started + backgroundSent * interval;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const account = background[backgroundSent % background.length];
      sequence = (sequence % 9999) + 1;
      sendSia(vakt, account, sequence, 'Nri0/RP').catch(() => {});
      backgroundSent += 1;
    }
  })();
  await sleep(2000);
  say('sending alarms under background load');

  const sent = new Map();
  for (const [i, account] of alarmed.entries()) {
    const name = `Mätobjekt ${account}`;
    await page.evaluate((n) => window.pending.set(n, true), name);
    const at = performance.timeOrigin + performance.now();
    sent.set(name, at);
    await sendSia(vakt, account, 1, `Nri1/BA${(i % 8) + 1}`);
    await sleep(ALARM_EVERY_MS);
  }
  await page.waitForFunction(() => window.pending.size === 0, null, { timeout: 30000 });
  const seen = new Map(await page.evaluate(() => [...window.seen.entries()]));
  running = false;
  await backgroundLoop;
  await context.close();
  const latencies = [...sent.entries()].map(([name, at]) => seen.get(name) - at).sort((a, b) => a - b);
  return { latencies, backgroundSent };
}

async function firstRender(vakt, chromium) {
  const have = await openCount(vakt);
  const missing = Math.max(0, OPEN - have);
  const accounts = Array.from({ length: missing }, (_, i) => `C${hex(0x10000 + i)}`);
  say(`registering ${missing} more sites`);
  await register(vakt, accounts, (account) => `Objekt ${account}`);
  say('sending their alarms');
  await sendAll(vakt, accounts.map((account) => [account, 1, 'Nri1/BA1']));
  for (let i = 0; i < 600 && (await openCount(vakt)) < OPEN; i++) await sleep(500);
  const open = await openCount(vakt);
  say(`${open} open incidents; loading the queue`);
  const context = await chromium.newContext();
  const page = await signIn(context, vakt, 'olle', PASSWORD);
  const loads = [];
  for (let i = 0; i < LOADS; i++) {
    await page.goto('about:blank');
    await page.goto(vakt.base + '/queue', { waitUntil: 'load' });
    const timing = await page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const paint = performance.getEntriesByType('paint').find((p) => p.name === 'first-contentful-paint');
      return {
        responseEnd: nav.responseEnd,
        domContentLoaded: nav.domContentLoadedEventEnd,
        firstContentfulPaint: paint ? paint.startTime : NaN,
        bytes: nav.transferSize,
        rows: document.querySelectorAll('#queue-rows tr').length,
      };
    });
    loads.push(timing);
  }
  await context.close();
  return { open, loads };
}

const vakt = await startVakt({ binary: BINARY, enginePollMs: 100, registryPollMs: 1000 });
const chromium = await browser();
try {
  await api(vakt, 'POST', '/api/v1/staff', { login: 'olle', name: 'Olle Operatör', role: 'operator', password: PASSWORD });
  const { latencies, backgroundSent } = await signalToScreen(vakt, chromium);
  const ms = (v) => `${v.toFixed(0)} ms`;
  console.log('\n| alarms | background | signal → queue row p50 | p99 | max |');
  console.log('| ---: | ---: | ---: | ---: | ---: |');
  console.log(`| ${latencies.length} | ${BACKGROUND_PER_S} signals/s (${backgroundSent} sent) | ${ms(percentile(latencies, 0.5))} | ${ms(percentile(latencies, 0.99))} | ${ms(latencies[latencies.length - 1])} |`);

  const { open, loads } = await firstRender(vakt, chromium);
  const median = (key) => percentile(loads.map((l) => l[key]).sort((a, b) => a - b), 0.5);
  console.log('\n| open incidents | rows rendered | HTML size | last byte (median) | DOMContentLoaded | first contentful paint | loads |');
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  console.log(`| ${open} | ${loads[0].rows} | ${(loads[0].bytes / 1024 / 1024).toFixed(1)} MiB | ${ms(median('responseEnd'))} | ${ms(median('domContentLoaded'))} | ${ms(median('firstContentfulPaint'))} | ${loads.map((l) => l.firstContentfulPaint.toFixed(0)).join(', ')} ms |`);
} finally {
  await chromium.close();
  await vakt.stop();
}
