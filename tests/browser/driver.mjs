// A Chromium that tests drive line by line: each line on stdin is a JSON
// command, each answer a JSON line on stdout. Debian's Chromium, started
// with nothing that reaches the network by itself.
//
//   {"op": "open", "url": ..., "width": 1280, "height": 800}  -> {"tab": n}
//   {"op": "wait", "tab": n, "selector": ...}
//   {"op": "down", "tab": n, "selector": ...}   pointer pressed on it
//   {"op": "up", "tab": n} / {"op": "leave", "tab": n}
//   {"op": "click", "tab": n, "selector": ...}
//   {"op": "fill", "tab": n, "selector": ..., "text": ...}
//   {"op": "eval", "tab": n, "js": ...}        -> {"value": ...}
//   {"op": "close", "tab": n}
//   {"op": "screenshot", "tab": n, "path": ...}
//   {"op": "quit"}
// The first line out is {"pid": <chromium's pid>}, so a test can kill it.

import { chromium } from 'playwright-core';
import readline from 'node:readline';

// A server, whose process (and pid) we see, and a connection to it.
const server = await chromium.launchServer({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    // WebRTC on loopback (tests run in a namespace with only `lo`), with
    // real host candidates rather than mDNS names.
    '--allow-loopback-in-peer-connection',
    '--disable-features=MediaRouter,OptimizationHints,WebRtcHideLocalIpsWithMdns',
    // A test's own flags, e.g. --host-resolver-rules to name a namespace.
    ...JSON.parse(process.env.CHROMIUM_EXTRA_ARGS || '[]')],
});
const browser = await chromium.connect(server.wsEndpoint());
const context = await browser.newContext();
const tabs = [];
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
out({ pid: server.process()?.pid ?? null });

const logs = [];
async function run(cmd) {
  const page = tabs[cmd.tab ?? 0];
  switch (cmd.op) {
    case 'open': {
      const p = await context.newPage();
      p.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
      if (cmd.width) await p.setViewportSize({ width: cmd.width, height: cmd.height });
      const t0 = Date.now();
      await p.goto(cmd.url);
      tabs.push(p);
      return { tab: tabs.length - 1, ms: Date.now() - t0 };
    }
    case 'wait': {
      const t0 = Date.now();
      await page.waitForSelector(cmd.selector, { timeout: cmd.timeout ?? 15000 });
      return { ms: Date.now() - t0 };
    }
    case 'down': {
      const box = await page.locator(cmd.selector).boundingBox();
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await page.mouse.down();
      return {};
    }
    case 'up':
      await page.mouse.up();
      return {};
    case 'leave':
      await page.mouse.move(1, 1);
      return {};
    case 'click':
      await page.click(cmd.selector);
      return {};
    case 'fill':
      await page.fill(cmd.selector, cmd.text);
      return {};
    case 'eval': {
      // A hung call fails the command instead of hanging the test.
      const limit = new Promise((_, no) => setTimeout(() => no(new Error(`eval did not settle within ${cmd.timeout ?? 20000} ms`)), cmd.timeout ?? 20000));
      return { value: await Promise.race([page.evaluate(cmd.js), limit]) };
    }
    case 'close':
      await page.close();
      return {};
    case 'screenshot':
      await page.screenshot({ path: cmd.path, fullPage: true });
      return {};
    case 'logs':
      return { logs };
    case 'quit':
      await browser.close().catch(() => {});
      await server.close();
      return { bye: true };
    default:
      throw new Error(`unknown op ${cmd.op}`);
  }
}

const lines = readline.createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  let cmd;
  try {
    cmd = JSON.parse(line);
    out({ ok: true, ...(await run(cmd)) });
  } catch (e) {
    out({ ok: false, error: String(e?.message ?? e) });
  }
  if (cmd?.op === 'quit') process.exit(0);
}
