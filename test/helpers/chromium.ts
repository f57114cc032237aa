import fs from 'node:fs';
import { chromium, type BrowserContext } from 'playwright-core';
import flags from './chromium-flags.json' with { type: 'json' };
import { tempDir } from './temp.js';

/** Debian's Chromium (CI installs it); CHROMIUM_PATH overrides. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Headless, no network of its own, WebGL through SwiftShader (see shared NOTES.md). */
export const CHROMIUM_FLAGS: string[] = flags;

/** Browser suites skip only on a developer machine without Chromium; under CI a missing browser fails. */
export const skipWithoutChromium = !fs.existsSync(CHROMIUM) && !process.env.CI;

/** A fresh browser profile in a temp directory (call from beforeAll). */
export function launchChromium(options: {
  viewport: { width: number; height: number };
  acceptDownloads?: boolean;
}): Promise<BrowserContext> {
  return chromium.launchPersistentContext(tempDir('runlens-chromium-'), {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    ...options,
  });
}
