import { z } from 'zod';

/**
 * The test slots before a session (issue 11 item 7): a per-point test the working day before and
 * one two hours before, a rehearsal (tổng duyệt) in which all points connect together, and the
 * national decree's "every point connected one hour before".
 */
export const SLOT_KINDS = ['day_before', 'rehearsal', 'hours_before', 'all_connected'] as const;
export type SlotKind = (typeof SLOT_KINDS)[number];

export const slotView = z.object({ id: z.string(), sessionId: z.string(), kind: z.enum(SLOT_KINDS), label: z.string(), startsAt: z.string() }).describe('PreflightSlot');
export const resultView = z
  .object({
    id: z.string(),
    slotId: z.string(),
    sessionId: z.string(),
    bridgePointId: z.string(),
    connected: z.boolean(),
    icePath: z.string().nullable(),
    rttMs: z.number().nullable(),
    lossPct: z.number().nullable(),
    bitrateKbps: z.number().nullable(),
    camera: z.boolean(),
    microphone: z.boolean(),
    passed: z.boolean(),
    problems: z.array(z.string()),
    notes: z.string(),
    reportedBy: z.string(),
    reportedAt: z.string(),
  })
  .describe('PreflightResult');
/** A bridge point whose latest test did not pass (or that has none). */
export const notPassedView = z.object({ bridgePointId: z.string(), name: z.string(), lastResult: z.enum(['failed', 'none']) });

/** The test matrix of a session (`GET /sessions/:id/preflight`): bridge points × slots. */
export const matrixView = z.object({
  sessionId: z.string(),
  slots: z.array(slotView),
  points: z.array(
    z.object({
      bridgePointId: z.string(),
      code: z.string(),
      name: z.string(),
      kind: z.string(),
      cells: z.array(z.object({ slotId: z.string(), status: z.enum(['passed', 'failed', 'pending']), result: resultView.nullable() })),
      /** Status of the point's most recent test, whatever the slot. */
      latest: z.enum(['passed', 'failed', 'none']),
    }),
  ),
  notPassed: z.array(notPassedView),
  /** The go-live gate: points lacking a pass in a slot the rules require (GATE_SLOTS in src/domain/preflight). */
  goLiveGaps: z.array(notPassedView.extend({ missing: z.array(z.enum(SLOT_KINDS)) })).describe('Points lacking a pass at T-1 working day or T-2 h, or not connected at T-1 h: going live then needs the chair’s override'),
  testedGaps: z.array(notPassedView.extend({ missing: z.array(z.enum(SLOT_KINDS)) })).describe('Points lacking a pass at T-1 working day: mark-tested refuses then (PREFLIGHT_NOT_PASSED)'),
});

export type SlotView = z.infer<typeof slotView>;
export type ResultView = z.infer<typeof resultView>;
export type NotPassedPoint = z.infer<typeof notPassedView>;
export type MatrixView = z.infer<typeof matrixView>;
/** A bridge point that has not met the go-live rule, and the slots it is missing. */
export type GoLiveGap = MatrixView['goLiveGaps'][number];
