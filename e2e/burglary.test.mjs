// A burglary from signal to close, in the browser: it appears in the live queue, an operator
// takes it, follows the action instruction, verifies a contact by password and sends a guard;
// the guard company's user accepts and reports from the phone page; the operator closes it,
// and the incident's log shows every step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startVakt, api, sendSia, browser, signIn } from './harness.mjs';

const PASSWORD = 'ett långt lösenord';

async function seed(vakt) {
  const customer = await api(vakt, 'POST', '/api/v1/customers', {
    kind: 'private', name: 'Karin Lind', identity: '811218-9876', phone: '070-765 43 21',
  });
  const site = await api(vakt, 'POST', '/api/v1/sites', {
    customer_id: String(customer.id), name: 'Villa Lind', address: 'Kvarngatan 3, Knivsta', guard_area: 'Knivsta',
  });
  await api(vakt, 'PUT', `/api/v1/sites/${site.id}/points`, [
    { number: '4', name: 'Hall', kind: 'motion', location: 'vid ytterdörren' },
  ]);
  await api(vakt, 'PUT', `/api/v1/sites/${site.id}/contacts`, [
    { name: 'Karin Lind', phone: '070-765 43 21', authority: 'full', password: 'Hjortron 5' },
  ]);
  await api(vakt, 'POST', '/api/v1/transmitters', [
    { account: '5678', site_name: 'Villa Lind', site_address: 'Kvarngatan 3, Knivsta', supervision_interval_s: 86400 },
  ]);
  const company = await api(vakt, 'POST', '/api/v1/guard-companies', { name: 'Knivsta Bevakning', areas: 'Knivsta' });
  await api(vakt, 'POST', '/api/v1/staff', { login: 'olle', name: 'Olle Operatör', role: 'operator', password: PASSWORD });
  await api(vakt, 'POST', '/api/v1/staff', {
    login: 'vakt1', name: 'Vera Väktare', role: 'guard', guard_company_id: String(company.id), password: PASSWORD,
  });
  return { site: site.id };
}

test('a burglary walks from signal to close with every step in the log', async () => {
  const vakt = await startVakt();
  const chromium = await browser();
  try {
    await seed(vakt);
    await new Promise((r) => setTimeout(r, 300)); // the receiver reloads its registry

    const operatorContext = await chromium.newContext({ locale: 'sv-SE' });
    const operator = await signIn(operatorContext, vakt, 'olle', PASSWORD);
    assert.match(operator.url(), /\/queue$/);
    await operator.waitForSelector('#live.on');
    assert.equal(await operator.textContent('#queue-rows'), (await operator.textContent('#queue-rows')));

    const sent = Date.now();
    const answer = await sendSia(vakt, '5678', 1, 'Nri1/BA4');
    assert.match(answer, /"ACK"/);
    const row = await operator.waitForSelector('#queue-rows tr[data-id]', { timeout: 5000 });
    const latency = Date.now() - sent;
    console.log(`signal to queue row, no reload: ${latency} ms`);
    assert.match(await row.textContent(), /Inbrott – Hall, vid ytterdörren/);
    assert.equal(await operator.locator('#queue-rows tr.new').count(), 1, 'the new alarm is highlighted');
    assert.ok(await operator.evaluate(() => window.vaktAlerts) >= 1, 'the alarm sound was signalled');

    await Promise.all([operator.waitForNavigation(), row.$('a').then((a) => a.click())]);
    await Promise.all([operator.waitForNavigation(), operator.click('#take')]);
    assert.match(await operator.textContent('#owner'), /Olle Operatör/);

    const recordStep = async (index, outcome, detail) => {
      const form = operator.locator(`li[data-step="${index}"] form`);
      await form.locator('select[name=outcome]').selectOption(outcome);
      if (detail) await form.locator('input[name=detail]').fill(detail);
      await Promise.all([operator.waitForNavigation(), form.locator('button').click()]);
    };
    await recordStep(0, 'no_answer');
    await recordStep(1, 'called', 'Karin Lind svarade');
    await operator.fill('form.verify input[name=password]', 'Hjortron 5');
    await Promise.all([operator.waitForNavigation(), operator.click('form.verify button')]);
    assert.match(await operator.textContent('#flash'), /Rätt lösenord/);
    await recordStep(2, 'verified');
    await Promise.all([operator.waitForNavigation(), operator.click('#send-guard')]);
    assert.match(await operator.textContent('.dispatch'), /Knivsta Bevakning: Begärd/);

    const guardContext = await chromium.newContext({ locale: 'sv-SE', viewport: { width: 390, height: 844 }, isMobile: true });
    const guard = await signIn(guardContext, vakt, 'vakt1', PASSWORD);
    assert.match(guard.url(), /\/guard$/);
    assert.match(await guard.textContent('.card'), /Villa Lind, Kvarngatan 3, Knivsta/);
    await Promise.all([guard.waitForNavigation(), guard.click('button.big')]);
    assert.match(await guard.textContent('.card .dstate'), /Accepterad/);
    await Promise.all([guard.waitForNavigation(), guard.click('button.big')]);
    assert.match(await guard.textContent('.card .dstate'), /På plats/);
    await guard.fill('.card textarea[name=report]', 'Ytterdörren olåst, inga spår av inbrott. Låste.');
    await Promise.all([guard.waitForNavigation(), guard.click('button.big')]);
    assert.match(await guard.textContent('.card .dstate'), /Rapport mottagen/);

    // The operator's page follows the guard's reports without a reload by hand.
    await operator.waitForFunction(() => document.querySelector('.dispatch')?.textContent.includes('Rapport mottagen'), null, { timeout: 5000 });
    await recordStep(3, 'done', 'Väktare på plats 12 min');
    await operator.selectOption('#close-form select[name=resolution]', 'user_error');
    await operator.fill('#close-form input[name=note]', 'Dörren lämnades olåst');
    await Promise.all([operator.waitForNavigation(), operator.click('#close')]);
    assert.match(await operator.textContent('.state'), /Avslutat: Användarfel/);

    const log = await operator.textContent('#log');
    for (const expected of ['opened', 'taken', 'step 1', 'step 2', 'password_check', 'step 3', 'dispatch', 'accepted', 'on_site', 'reported', 'step 4', 'closed']) {
      assert.ok(log.includes(expected), `the log shows ${expected}: ${log}`);
    }
    assert.ok(log.includes('Olle Operatör (olle)') && log.includes('Vera Väktare (vakt1)'), 'the log names who did what');

    await operator.goto(vakt.base + '/queue');
    await operator.waitForSelector('#live.on');
    assert.equal(await operator.locator('#queue-rows tr[data-id]').count(), 0, 'the queue is empty again');
  } finally {
    await chromium.close();
    await vakt.stop();
  }
});

test('the console speaks English when asked and refuses a guard the queue', async () => {
  const vakt = await startVakt();
  const chromium = await browser();
  try {
    await seed(vakt);
    const context = await chromium.newContext({ locale: 'sv-SE' });
    const operator = await signIn(context, vakt, 'olle', PASSWORD);
    await Promise.all([operator.waitForNavigation(), operator.click('a.lang')]);
    assert.match(await operator.textContent('h1'), /Alarm queue/);
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'vakt_session');
    assert.ok(session.httpOnly && session.secure && session.sameSite === 'Strict', JSON.stringify(session));
    const guardContext = await chromium.newContext();
    const guard = await signIn(guardContext, vakt, 'vakt1', PASSWORD);
    const response = await guard.goto(vakt.base + '/queue');
    assert.equal(response.status(), 403);
  } finally {
    await chromium.close();
    await vakt.stop();
  }
});
