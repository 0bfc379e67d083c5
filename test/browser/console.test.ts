/**
 * The local web console, used as a person would in headless Chromium: type the command, watch the
 * thread, be refused as a non-approver, switch to the approver, approve, see the run finish.
 * Screenshots land in .tmp/console-*.png.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CONSOLE_CHANNEL } from '../../src/console/server.js';
import { startHarness, type Harness } from '../support/harness.js';
import { kubeFor } from '../support/inspect.js';

const CHROMIUM = '/usr/bin/chromium';

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
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  });
  afterAll(async () => {
    await browser?.close();
    await h?.stop();
  });

  it('runs /mesh enable cluster from the page and approves with the button', async () => {
    await page.goto(`${h.app.url}/`);
    await page.waitForSelector('#user option[value="U0BOB"]', { state: 'attached' });
    expect(await page.inputValue('#user')).toBe('U0BOB');

    await page.fill('#command', '/mesh enable cluster proj-a/us-central1/c1 namespaces=default,shop');
    await page.press('#command', 'Enter');
    await page.waitForSelector('#hint:has-text("Queued run")');
    await page.waitForSelector('#channel .msg:has-text("Enable Cloud Service Mesh on")');

    // The prompt is broadcast to the channel; open the thread from the root message.
    await page.waitForSelector('#channel button[data-action="approval_approve"]', { timeout: 30_000 });
    await page.click('#channel .replies');
    await page.waitForSelector('#thread-feed :text("Control plane")');
    await page.screenshot({ path: '.tmp/console-approval.png' });

    // Bob is not an approver: his click is refused, only he sees why, and nothing moves.
    await page.click('#thread-feed button[data-action="approval_approve"]');
    await page.waitForSelector('.ephemeral:has-text("not an approver")');
    expect(await page.locator('#thread-feed button[data-action="approval_approve"]').count()).toBe(1);

    await page.selectOption('#user', 'U0ALICE');
    await page.waitForFunction("document.querySelectorAll('.ephemeral').length === 0");
    await page.click('#thread-feed button[data-action="approval_approve"]');
    await page.waitForSelector('#thread-feed .msg:has-text("Done.")', { timeout: 30_000 });
    expect(await page.locator('button[data-action="approval_approve"]').count()).toBe(0);
    expect(await page.locator('#thread-feed').innerText()).toContain('Approved by @Alice Platform');
    expect(await page.locator('#channel').innerText()).toContain('Succeeded');
    await page.screenshot({ path: '.tmp/console-done.png' });

    const { core } = await kubeFor(h.sim, 'proj-a/us-central1/c1');
    const labels = (await core.readNamespace({ name: 'shop' })).metadata?.labels ?? {};
    expect(labels['istio-injection']).toBe('enabled');
    expect(h.sim.slack.messages(CONSOLE_CHANNEL).filter((m) => !m.thread_ts)).toHaveLength(1);
  });

  it('answers /mesh status in the page, and tells the channel when Google rolls new proxies', async () => {
    await page.fill('#command', '/mesh status proj-a/us-central1/c1');
    await page.press('#command', 'Enter');
    await page.waitForSelector('.ephemeral:has-text("Control plane: ACTIVE")', { timeout: 30_000 });
    expect(await page.locator('.ephemeral').last().innerText()).toContain('Proxies: 1.23.6-asm.14 on');
    await page.screenshot({ path: '.tmp/console-status.png' });

    // The run watched the cluster from this channel; Google now upgrades the proxies.
    await page.selectOption('#world-cluster', 'proj-a/us-central1/c1');
    await page.click('#world-actions button[data-world="proxy"]');
    await page.waitForSelector('#world-done:has-text("1.24.6-asm.14")');
    await page.waitForSelector('#channel .msg:has-text("Proxy roll-out started")', { timeout: 30_000 });
    await page.waitForSelector('#channel .msg:has-text("Proxy roll-out to 1.24.6-asm.14 finished")', {
      timeout: 60_000,
    });
    await page.screenshot({ path: '.tmp/console-upgrade.png' });
  });
});
