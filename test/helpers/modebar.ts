import type { Locator, Page } from 'playwright-core';

/**
 * Hovers each Plotly figure under `figures` and clicks every button of its modebar, as a curious
 * user would; returns the titles of the buttons clicked (one entry per click).
 */
export async function clickEveryModebarButton(page: Page, figures: Locator): Promise<string[]> {
  const clicked: string[] = [];
  for (const figure of await figures.all()) {
    await figure.scrollIntoViewIfNeeded();
    await figure.hover();
    for (const button of await figure.locator('.modebar-btn').all()) {
      clicked.push((await button.getAttribute('data-title')) ?? '(untitled)');
      await button.click({ force: true });
      await page.waitForTimeout(50);
    }
    // Back to how it was drawn (a mode button may have left zoom or pan on).
    await figure.dblclick({ force: true, position: { x: 5, y: 5 } });
  }
  return clicked;
}
