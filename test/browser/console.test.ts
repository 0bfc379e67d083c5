/**
 * The local web console, used as a person would in headless Chromium: type the command, watch the
 * thread, be refused as a non-approver, switch to the approver, approve, see the run finish; in the
 * fleet panel (the emulator's own state endpoint) watch the namespaces turn injected, play Google with a
 * revision upgrade and a failing API; the same page on a phone. Screenshots land in .tmp/console-*.png.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CONSOLE_CHANNEL } from '../../src/console/server.js';
import { startHarness, type Harness } from '../support/harness.js';
import { kubeFor } from '../support/inspect.js';

const CHROMIUM = '/usr/bin/chromium';
const C1 = 'proj-a/us-central1/c1';
const c1Card = `#fleet-clusters .cluster[data-cluster="${C1}"]`;

describe('the local web console in a browser', () => {
  let h: Harness;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does it)`);
    }
    mkdirSync('.tmp', { recursive: true });
    h = await startHarness({ scenario: 'default' }, { env: { MESHOPS_APPROVERS: 'U0ALICE' }, console: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  });
  afterAll(async () => {
    await browser?.close();
    await h?.stop();
  });

  /** The proxy version of every pod the panel shows in a namespace of c1 ('' for none). */
  async function proxies(namespace: string): Promise<string[]> {
    const pods = await page.locator(`${c1Card} .ns[data-ns="${namespace}"] .pod`).all();
    return Promise.all(pods.map(async (pod) => (await pod.getAttribute('data-proxy')) ?? ''));
  }

  /** Waits until the panel shows `count` pods (or some) under `selector`, every one with istio-proxy `version`. */
  async function podsRun(selector: string, version: string, count?: number): Promise<void> {
    // A string, evaluated in the page: these files are type-checked without the DOM's types.
    const pods = `[...document.querySelectorAll(${JSON.stringify(`${selector} .pod`)})]`;
    const enough = count === undefined ? 'pods.length > 0' : `pods.length === ${count}`;
    await page.waitForFunction(
      `(() => { const pods = ${pods}; return ${enough} && pods.every((p) => p.dataset.proxy === ${JSON.stringify(version)}); })()`,
      undefined,
      { timeout: 30_000 },
    );
  }

  /** Whether the page is wider than its window (something sticks out sideways). */
  function overflows(target: Page): Promise<boolean> {
    return target.evaluate('document.documentElement.scrollWidth > window.innerWidth');
  }

  it('runs /mesh enable cluster from the page, approves with the button, and the fleet panel shows the namespaces injected', async () => {
    await page.goto(`${h.app.url}/`);
    await page.waitForSelector('#user option[value="U0BOB"]', { state: 'attached' });
    expect(await page.inputValue('#user')).toBe('U0BOB');

    // Before: the emulator's fleet, c1 not in it, its pods without a sidecar.
    await page.waitForSelector(`${c1Card} .membership:has-text("not registered")`);
    expect(await page.locator(`${c1Card} .ns[data-ns="shop"]`).getAttribute('data-injected')).toBe('false');
    expect(await proxies('shop')).toEqual(['', '', '']);

    await page.fill('#command', `/mesh enable cluster ${C1} namespaces=default,shop`);
    await page.press('#command', 'Enter');
    await page.waitForSelector('#channel .ephemeral:has-text("Queued run")');
    await page.waitForSelector('#channel .msg:has-text("Enable Cloud Service Mesh on")');

    // The panel follows the world as the bot changes it: registered, then both planes ACTIVE.
    await page.waitForSelector(`${c1Card} .membership:has-text("READY")`, { timeout: 30_000 });
    await page.waitForSelector(`${c1Card} .kv:has-text("Data plane") .state:text-is("ACTIVE")`, {
      timeout: 30_000,
    });

    // The prompt is broadcast to the channel; open the thread from the root message.
    await page.waitForSelector('#channel button[data-action="approval_approve"]', { timeout: 30_000 });
    await page.click('#channel .replies');
    await page.waitForSelector('#thread-feed :text("Control plane")');
    expect(await page.locator('#fleet-pane').isVisible()).toBe(false);
    await page.screenshot({ path: '.tmp/console-approval.png' });

    // Bob is not an approver: his click is refused, only he sees why, and nothing moves.
    await page.click('#thread-feed button[data-action="approval_approve"]');
    await page.waitForSelector('.ephemeral:has-text("not an approver")');
    expect(await page.locator('#thread-feed button[data-action="approval_approve"]').count()).toBe(1);
    expect(await page.locator(`${c1Card} .ns[data-ns="shop"]`).getAttribute('data-injected')).toBe('false');

    await page.selectOption('#user', 'U0ALICE');
    await page.waitForFunction("document.querySelectorAll('.ephemeral').length === 0");
    await page.click('#thread-feed button[data-action="approval_approve"]');
    await page.waitForSelector('#thread-feed .msg:has-text("Done.")', { timeout: 30_000 });
    expect(await page.locator('button[data-action="approval_approve"]').count()).toBe(0);
    expect(await page.locator('#thread-feed').innerText()).toContain('Approved by @Alice Platform');
    expect(await page.locator('#channel').innerText()).toContain('Succeeded');

    // After: both namespaces labelled, every pod in them restarted with istio-proxy.
    await page.click('.tabs button[data-view="fleet"]');
    for (const namespace of ['default', 'shop']) {
      const row = page.locator(`${c1Card} .ns[data-ns="${namespace}"]`);
      await podsRun(`${c1Card} .ns[data-ns="${namespace}"]`, '1.23.6-asm.14');
      expect(await row.getAttribute('data-injected')).toBe('true');
      expect(await row.innerText()).toContain('istio-injection=enabled');
    }
    expect(await proxies('shop')).toHaveLength(3);
    expect(await page.locator(`${c1Card} .kv:has-text("Management")`).innerText()).toContain(
      'MANAGEMENT_AUTOMATIC',
    );
    expect(await overflows(page)).toBe(false);
    await page.screenshot({ path: '.tmp/console-fleet-1280.png' });

    const { core } = await kubeFor(h.sim, C1);
    const labels = (await core.readNamespace({ name: 'shop' })).metadata?.labels ?? {};
    expect(labels['istio-injection']).toBe('enabled');
    expect(h.sim.slack.messages(CONSOLE_CHANNEL).filter((m) => !m.thread_ts)).toHaveLength(1);
  });

  it('a revision upgrade played from the panel shows in the panel and in the watching channel', async () => {
    // The run watched the cluster from this channel; asking again says so, as an answer only Alice sees.
    await page.fill('#command', `/mesh watch ${C1}`);
    await page.press('#command', 'Enter');
    await page.waitForSelector('#channel .ephemeral:has-text("already watches")');

    await page.selectOption('#mesh-cluster', C1);
    await page.selectOption('#mesh-change', 'channel:RAPID');
    await page.click('#mesh-apply');
    await page.waitForSelector('#fleet-done:has-text("moves to the RAPID channel")');
    await page.waitForSelector(`${c1Card} .pill:text-is("channel RAPID")`);
    await page.waitForSelector(`${c1Card} .kv:has-text("Control plane") code:text-is("asm-managed-rapid")`, {
      timeout: 30_000,
    });

    await page.waitForSelector('#channel .msg:has-text("GKE release channel: REGULAR → RAPID")', {
      timeout: 30_000,
    });
    await page.waitForSelector(
      '#channel .msg:has-text("Control-plane revision asm-managed-rapid is ready")',
      {
        timeout: 30_000,
      },
    );
    await page.waitForSelector('#channel .msg:has-text("Proxy roll-out to 1.24.2-asm.1 finished")', {
      timeout: 60_000,
    });
    // The managed data plane replaced every pod with the RAPID channel's proxy.
    await podsRun(`${c1Card} .ns`, '1.24.2-asm.1', 5);
    // Shortcodes are shown as the emoji Slack would show.
    const channel = await page.locator('#channel').innerText();
    expect(channel).toContain('📡 GKE release channel');
    expect(channel).not.toMatch(/:[a-z_]+:/);
    await page.screenshot({ path: '.tmp/console-upgrade.png' });
  });

  it('makes an API fail from the panel: the bot says which call failed, and recovers when cleared', async () => {
    await page.selectOption('#fault-api', 'container');
    await page.selectOption('#fault-status', '503');
    await page.selectOption('#fault-times', 'every');
    await page.click('#fault-add');
    await page.waitForSelector('#fault-list .fault:has-text("container answers 503 to every call")');

    await page.fill('#command', `/mesh status ${C1}`);
    await page.press('#command', 'Enter');
    await page.waitForSelector('#channel .ephemeral:has-text("Could not read the status")', {
      timeout: 30_000,
    });
    expect(await page.locator('#channel .ephemeral').last().innerText()).toContain(
      'The service is currently unavailable',
    );
    await page.screenshot({ path: '.tmp/console-fault.png' });

    await page.click('#fault-clear');
    await page.waitForSelector('#fleet-done:has-text("answers normally again")');
    expect(await page.locator('#fault-list .fault').count()).toBe(0);
    await page.fill('#command', `/mesh status ${C1}`);
    await page.press('#command', 'Enter');
    await page.waitForSelector('#channel .ephemeral:has-text("Control plane: ACTIVE")', { timeout: 30_000 });
    const healthy = await page.locator('#channel .ephemeral').last().innerText();
    expect(healthy).toContain('Proxies: 1.24.2-asm.1 on');
    // The mesh settings line: the emulator writes no istio-asm-managed* ConfigMap, so it says none is there.
    expect(healthy).toMatch(/Mesh config: no ConfigMap istio-system\/istio-asm-managed(-rapid|-stable)? yet/);
  });

  it('works on a phone: one column, tabs for the channel, the thread and the fleet', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 800 } });
    try {
      await phone.goto(`${h.app.url}/`);
      await phone.waitForSelector('#channel .msg:has-text("Enable Cloud Service Mesh on")');
      expect(await phone.locator('#fleet-pane').isVisible()).toBe(false);
      expect(await overflows(phone)).toBe(false);
      await phone.screenshot({ path: '.tmp/console-phone-channel.png' });

      await phone.click('#channel .replies');
      await phone.waitForSelector('#thread-feed .msg:has-text("Done.")');
      expect(await phone.locator('main').isVisible()).toBe(false);
      expect(await overflows(phone)).toBe(false);
      await phone.screenshot({ path: '.tmp/console-phone-thread.png' });

      await phone.click('.tabs button[data-view="fleet"]');
      await phone.waitForSelector(`${c1Card} .ns[data-ns="shop"][data-injected="true"]`);
      expect(await phone.locator('#thread-pane').isVisible()).toBe(false);
      expect(await overflows(phone)).toBe(false);
      await phone.screenshot({ path: '.tmp/console-phone-fleet.png' });

      await phone.click('.tabs button[data-view="channel"]');
      expect(await phone.locator('#composer').isVisible()).toBe(true);
    } finally {
      await phone.close();
    }
  });
});
