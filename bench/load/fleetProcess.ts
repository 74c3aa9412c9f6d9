/**
 * The synthetic points in a child process of the bench (fork), so the server's Node CPU and the
 * load generator's CPU are measured apart; the bench may fork several (--fleet-processes) so the
 * generator is not one Node thread. Messages (IPC, validated): the parent sends `start`,
 * the child answers `started`; `mark` opens the measured window; `report` gets the counters back
 * (`report`), then `stop` ends the points and the process.
 */
import { z } from 'zod';
import { PointFleet } from './pointFleet.ts';

const viewSize = z.object({ width: z.number().int().positive(), height: z.number().int().positive() });
export const startMessage = z.object({
  type: z.literal('start'),
  wsUrl: z.string(),
  seats: z
    .array(z.object({ sessionId: z.string(), token: z.string(), speaking: z.boolean().optional(), viewSize: viewSize.optional(), speakerViewSize: viewSize.optional() }))
    .max(1000),
  layers: z.number().int().min(1).max(3),
  joinConcurrency: z.number().int().min(1).max(64).optional(),
});
const parentMessage = z.discriminatedUnion('type', [startMessage, z.object({ type: z.literal('mark') }), z.object({ type: z.literal('report') }), z.object({ type: z.literal('stop') })]);

let fleet: PointFleet | undefined;
const send = (m: object) => process.send?.(m);

process.on('message', (raw) => {
  const m = parentMessage.parse(raw);
  void (async () => {
    switch (m.type) {
      case 'start': {
        const t0 = performance.now();
        fleet = await PointFleet.start({ wsUrl: m.wsUrl, seats: m.seats, layers: m.layers, ...(m.joinConcurrency === undefined ? {} : { joinConcurrency: m.joinConcurrency }) });
        send({ type: 'started', ms: performance.now() - t0 });
        break;
      }
      case 'mark':
        fleet?.mark();
        send({ type: 'marked' });
        break;
      case 'report':
        send({ type: 'report', report: await fleet?.report() });
        break;
      case 'stop':
        await fleet?.stop();
        send({ type: 'stopped' });
        process.disconnect();
        break;
    }
  })();
});
