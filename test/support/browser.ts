import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrowserContext, Page, chromium } from 'playwright-core';

/** Debian's chromium (scripts/setup-browser.sh installs it); CHROMIUM overrides. */
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/**
 * Flags for a machine without outside network: with background networking, component updates,
 * sync or QUIC on, Chromium waits on refused connections and pages hang.
 */
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface Browser {
  page: Page;
  close(): Promise<void>;
}

/** Headless Chromium with a fresh profile (a used one may restore tabs or carry state between runs). */
export async function openBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: run \`bash scripts/setup-browser.sh\` (apt-get install chromium) or set CHROMIUM`);
  const profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
  const context: BrowserContext = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1400, height: 1000 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    page,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Waits until some frame of the page shows every one of `texts`, and returns that frame's text.
 * The Web UI renders summaries and details as markdown inside iframes, so page text alone misses them.
 */
export async function waitForFrameText(page: Page, texts: Array<string | RegExp>, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let seen: string[] = [];
  while (Date.now() < deadline) {
    seen = [];
    for (const frame of page.frames()) {
      // biome-ignore lint/performance/useDomNodeTextContent: the text as rendered, table cells apart, is what an operator reads
      const text = await frame.locator('body').innerText({ timeout: 1_000 }).catch(() => '');
      seen.push(text);
      if (texts.every((t) => (typeof t === 'string' ? text.includes(t) : t.test(text)))) return text;
    }
    await page.waitForTimeout(250);
  }
  throw new Error(`no frame showed ${texts.map(String).join(' + ')} within ${timeoutMs} ms; frames showed:\n${seen.map((s) => s.slice(0, 400)).join('\n---\n')}`);
}
