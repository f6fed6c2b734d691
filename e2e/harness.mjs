// Starts the real `vakt serve` on free loopback ports with its own data folder, seeds it
// through the JSON API, sends DC-09 frames, and opens Debian's Chromium. Everything stops
// when the test ends.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { chromium } from 'playwright-core';

export const TOKEN = 'e2e-token';
const BINARY = process.env.VAKT_BINARY ?? new URL('../target/debug/vakt', import.meta.url).pathname;
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

// `options` lets a benchmark run the release build with the default pacing:
// { binary, enginePollMs, registryPollMs } (the tests' defaults poll every 50 ms).
export async function startVakt(options = {}) {
  const binary = options.binary ?? BINARY;
  const folder = mkdtempSync(join(tmpdir(), 'vakt-e2e-'));
  const config = join(folder, 'vakt.toml');
  writeFileSync(config, `
data_dir = ${JSON.stringify(folder)}
log = "warn"
[http]
listen = "127.0.0.1:0"
api_token = "${TOKEN}"
[receiver]
registry_poll_ms = ${options.registryPollMs ?? 50}
[[receiver.listeners]]
name = "main"
address = "127.0.0.1:0"
protocols = "tcp"
unknown_account = "ack"
[security]
hash_memory_kib = 64
hash_iterations = 1
[engine]
poll_ms = ${options.enginePollMs ?? 50}
supervision_grace_s = 3600
`);
  const child = spawn(binary, ['--config', config, 'serve'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr.on('data', (d) => { output += d; });
  const addresses = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`vakt did not start: ${output}`)), 30000);
    child.stdout.on('data', (d) => {
      output += d;
      const http = output.match(/Console: http:\/\/([\d.]+:\d+)/);
      const tcp = output.match(/DC-09 receiver "main": tcp ([\d.]+:\d+)/);
      if (http && tcp) { clearTimeout(timer); resolve({ http: http[1], tcp: tcp[1] }); }
    });
    child.on('exit', (code) => reject(new Error(`vakt exited with ${code}: ${output}`)));
  });
  return {
    base: `http://${addresses.http}`,
    tcp: addresses.tcp,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

export async function api(vakt, method, path, body) {
  const response = await fetch(vakt.base + path, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

// CRC-16/ARC, as DC-09 frames carry it.
function crc16(bytes) {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

// Sends one plain SIA DC-03 message over TCP and resolves with the receiver's answer.
export function sendSia(vakt, account, sequence, data) {
  const body = `"SIA-DCS"${String(sequence).padStart(4, '0')}L0#${account}[#${account}|${data}]`;
  const bytes = Buffer.from(body, 'latin1');
  const hex = (n, w) => n.toString(16).toUpperCase().padStart(w, '0');
  const frame = Buffer.concat([
    Buffer.from(`\n${hex(crc16(bytes), 4)}0${hex(bytes.length, 3)}`, 'latin1'),
    bytes,
    Buffer.from('\r', 'latin1'),
  ]);
  const [host, port] = vakt.tcp.split(':');
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), host, () => socket.write(frame));
    let answer = '';
    socket.on('data', (d) => {
      answer += d.toString('latin1');
      if (answer.includes('\r')) { socket.end(); resolve(answer); }
    });
    socket.on('error', reject);
    socket.setTimeout(10000, () => { socket.destroy(); reject(new Error('no answer')); });
  });
}

export async function browser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export async function signIn(context, vakt, login, password) {
  const page = await context.newPage();
  await page.goto(vakt.base + '/login');
  await page.fill('input[name=login]', login);
  await page.fill('input[name=password]', password);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  return page;
}
