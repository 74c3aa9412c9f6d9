/**
 * The one real browser of a load run: Chromium as the session's central point on the bare test
 * page (/live/test.html), sending its fake camera and microphone and showing every commune. It
 * judges the picture: a commune counts as seen only if its video's framesDecoded grows.
 */
import type { Browser, Page } from 'playwright-core';
import { z } from 'zod';

const inboundSchema = z.array(z.object({ consumerId: z.string(), peerId: z.string(), kind: z.string(), packets: z.number(), lost: z.number(), framesDecoded: z.number() }));
export type Inbound = z.infer<typeof inboundSchema>;

type PageClient = { client: { state: string; inboundRtp(): Promise<unknown>; setViewSize(id: string, w: number, h: number): Promise<number> } };

export async function openCentralPage(browser: Browser, serverUrl: string, sessionId: string, token: string): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${serverUrl}/live/test.html#session=${encodeURIComponent(sessionId)}&token=${encodeURIComponent(token)}`);
  await page.waitForFunction(() => (window as unknown as PageClient).client.state === 'joined', undefined, { timeout: 60_000 });
  return page;
}

export async function centralInbound(page: Page): Promise<Inbound> {
  return inboundSchema.parse(await page.evaluate(() => (window as unknown as PageClient).client.inboundRtp()));
}

/**
 * The console's view of a province: every commune as a thumbnail (160×90: the SFU forwards the
 * lowest layer) and the speaker large (1280×720: the top layer): first `floorPeerId`, the commune
 * given the floor, then whichever commune the server's `activeSpeaker` names, as the chair's screen
 * does. A browser decoding 100+ top layers would measure the browser, not the server. Resolves
 * with the number of commune videos shown.
 */
export async function showAsThumbnails(page: Page, floorPeerId?: string): Promise<number> {
  const videos = (await centralInbound(page)).filter((c) => c.kind === 'video');
  await page.evaluate(async ({ ids, floor }) => {
    type Client = { setViewSize(id: string, w: number, h: number): Promise<number>; on(e: 'activeSpeaker', f: (peerId: string) => void): void; remoteTracks: Map<string, { peerId: string; kind: string }> };
    const client = (window as unknown as { client: Client }).client;
    for (const id of ids) await client.setViewSize(id, 160, 90);
    let large: string | undefined;
    const showLarge = (peerId: string) => {
      // The central point's own voice (its fake microphone beeps) has no tile here: nothing changes.
      const video = [...client.remoteTracks.entries()].find(([, t]) => t.peerId === peerId && t.kind === 'video')?.[0];
      if (video === undefined || video === large) return;
      if (large !== undefined) void client.setViewSize(large, 160, 90).catch(() => undefined);
      large = video;
      void client.setViewSize(video, 1280, 720).catch(() => undefined);
    };
    if (floor !== undefined) showLarge(floor);
    client.on('activeSpeaker', showLarge);
  }, { ids: videos.map((v) => v.consumerId), floor: floorPeerId });
  return videos.length;
}

/** Waits until the page has a consumer of each kind from `communes` peers (or the time is up). */
export async function waitForCommunes(page: Page, communes: number, ms: number): Promise<number> {
  const end = Date.now() + ms;
  for (;;) {
    const n = (await centralInbound(page)).filter((c) => c.kind === 'video').length;
    if (n >= communes || Date.now() > end) return n;
    await new Promise((r) => setTimeout(r, 500));
  }
}
