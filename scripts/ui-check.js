#!/usr/bin/env node
/**
 * Headless check of the editor's test button for the Gmail Push Trigger (not part of CI).
 *
 * Given a running n8n and a saved workflow with the trigger, it signs in as the owner in Debian's
 * Chromium (driven by playwright-core), opens the workflow, opens the trigger, clicks its test
 * button ("Fetch Test Event" / "Test step" / "Listen for test event" / "Execute step"), waits
 * until the output panel shows the item, and saves a screenshot.
 *
 *   node scripts/ui-check.js --url http://127.0.0.1:5678 --workflow <id> \
 *     [--email owner@example.com] [--password '…'] [--node 'Gmail Push Trigger'] \
 *     [--expect 'text the item must show'] [--out docs/test-button.png] [--timeout 60000]
 *   node scripts/ui-check.js --url … --credential 'Credential name' [--expect 'text'] [--out …]
 *     (the credential's dialog instead)
 *
 * Needs /usr/bin/chromium (apt-get update && apt-get install -y chromium) or --chromium <path>.
 * Exit code 0 when the item showed up, 1 otherwise (a screenshot is saved either way).
 */
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

function parseArgs(argv) {
	const args = {
		url: 'http://127.0.0.1:5678',
		email: 'owner@example.com',
		password: 'Passw0rd-e2e!',
		node: 'Gmail Push Trigger',
		out: path.join(__dirname, '..', 'docs', 'test-button.png'),
		timeout: 60000,
		chromium: '/usr/bin/chromium',
	};
	for (let i = 2; i < argv.length; i++) {
		const key = argv[i].replace(/^--/, '');
		if (!(key in args) && !['workflow', 'expect', 'credential'].includes(key)) throw new Error(`unknown option ${argv[i]}`);
		args[key] = argv[++i];
	}
	if (!args.workflow && !args.credential) throw new Error('--workflow <id> (or --credential <name>) is required');
	args.timeout = Number(args.timeout);
	return args;
}

/** The first of `locators` that becomes visible within `timeout`. */
async function firstVisible(page, selectors, timeout) {
	const deadline = Date.now() + timeout;
	while (Date.now() < deadline) {
		for (const selector of selectors) {
			const locator = page.locator(selector).first();
			if (await locator.isVisible().catch(() => false)) return locator;
		}
		await page.waitForTimeout(250);
	}
	throw new Error(`none of ${selectors.join(' | ')} became visible within ${timeout} ms`);
}

/** Closes n8n's notifications (Element Plus toasts), which cover the output panel. */
async function closeToasts(page) {
	const close = page.locator('.el-notification .el-notification__closeBtn');
	for (let i = (await close.count().catch(() => 0)) - 1; i >= 0; i--) await close.nth(i).click().catch(() => undefined);
}

async function main() {
	const args = parseArgs(process.argv);
	const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ui-check-chromium-'));
	// A fresh profile each run (Playwright passes it to Chromium as --user-data-dir).
	const context = await chromium.launchPersistentContext(userDataDir, {
		executablePath: args.chromium,
		headless: true,
		viewport: { width: 1440, height: 900 },
		args: [
			'--headless',
			'--no-sandbox',
			'--disable-gpu',
			'--disable-quic',
			'--no-first-run',
			'--disable-background-networking',
			'--disable-component-update',
			'--disable-sync',
		],
	});
	const page = context.pages()[0] ?? (await context.newPage());
	const step = (what) => console.log(`ui-check: ${what}`);
	let ok = false;
	try {
		step(`sign in at ${args.url} as ${args.email}`);
		await page.goto(`${args.url}/signin`, { waitUntil: 'domcontentloaded' });
		const email = await firstVisible(page, ['[data-test-id="signin-form"] input[name="email"]', 'input[name="email"]', 'input[type="email"]'], args.timeout);
		await email.fill(args.email);
		await page.locator('input[name="password"], input[type="password"]').first().fill(args.password);
		await page.locator('[data-test-id="signin-form"] button, button:has-text("Sign in")').last().click();
		await page.waitForURL((url) => !url.pathname.includes('/signin'), { timeout: args.timeout });

		if (args.credential) {
			// The credential's dialog, as a user opens it from the Credentials list.
			step(`open the credential "${args.credential}"`);
			await page.goto(`${args.url}/home/credentials`, { waitUntil: 'domcontentloaded' });
			await page.keyboard.press('Escape').catch(() => undefined);
			const card = await firstVisible(page, [`[data-test-id="resources-list-item"]:has-text("${args.credential}")`, `:text("${args.credential}")`], args.timeout);
			await card.click();
			await firstVisible(page, ['[data-test-id="editCredential-modal"]', '.el-dialog'], args.timeout);
			if (args.expect) await page.getByText(args.expect).first().waitFor({ state: 'visible', timeout: args.timeout });
			await page.mouse.move(5, 5);
			await page.waitForTimeout(800);
			step('the credential dialog is open');
			ok = true;
			return;
		}
		step(`open workflow ${args.workflow}`);
		await page.goto(`${args.url}/workflow/${args.workflow}`, { waitUntil: 'domcontentloaded' });
		const node = await firstVisible(
			page,
			[`[data-test-id="canvas-node"][data-node-name="${args.node}"]`, `[data-test-id="canvas-node"]:has-text("${args.node}")`, `.vue-flow__node:has-text("${args.node}")`],
			args.timeout,
		);
		// Dismiss whatever greets a new user (tours, banners) so the canvas takes the double-click.
		await page.keyboard.press('Escape').catch(() => undefined);

		step(`open "${args.node}"`);
		await node.dblclick();
		await firstVisible(page, ['[data-test-id="ndv"]', '[data-test-id="ndv-modal"]'], args.timeout);

		const button = await firstVisible(
			page,
			['[data-test-id="ndv"] [data-test-id="node-execute-button"]', '[data-test-id="ndv"] [data-test-id="trigger-execute-button"]', '[data-test-id="node-execute-button"]'],
			args.timeout,
		);
		step(`click "${(await button.innerText()).trim()}"`);
		await button.click();

		const output = page.locator('[data-test-id="ndv-output-panel"], [data-test-id="output-panel"]').first();
		const expected = args.expect ? output.getByText(args.expect).first() : output.locator('[data-test-id="ndv-items-count"], [data-test-id="ndv-data-container"]').first();
		await expected.waitFor({ state: 'visible', timeout: args.timeout });
		// The JSON view shows the whole item (the table cuts it at the panel's edge).
		const json = output.locator('[data-test-id="ndv-run-data-display-mode"]').getByText('JSON', { exact: true }).first();
		if (await json.isVisible().catch(() => false)) await json.click();
		await page.mouse.move(5, 5); // no hover tooltip over the panel
		await closeToasts(page); // an error's toast covers the panel's lower right
		await page.waitForTimeout(800); // let the panel finish rendering
		step(`the output panel shows the item${args.expect ? ` ("${args.expect}")` : ''}`);
		ok = true;
	} catch (error) {
		console.error(`ui-check: ${error.message}`);
	} finally {
		fs.mkdirSync(path.dirname(args.out), { recursive: true });
		await page.screenshot({ path: args.out }).catch((e) => console.error(`ui-check: no screenshot: ${e.message}`));
		step(`screenshot saved to ${args.out}`);
		await context.close();
		fs.rmSync(userDataDir, { recursive: true, force: true });
	}
	process.exitCode = ok ? 0 : 1;
}

main().catch((error) => {
	console.error(error);
	process.exitCode = 1;
});
