import { z } from 'zod';

export const BRIDGE_POINT_KINDS = ['central', 'commune', 'ward', 'agency'] as const;
export type BridgePointKind = (typeof BRIDGE_POINT_KINDS)[number];

/** A bridge point (điểm cầu): `GET /bridge-points`, `/bridge-points/:id`. */
export const bridgePointView = z
  .object({
    id: z.string(),
    code: z.string(),
    name: z.string(),
    kind: z.enum(BRIDGE_POINT_KINDS),
    address: z.string(),
    contactName: z.string(),
    contactPhone: z.string(),
    contactEmail: z.string(),
    networkNotes: z.string(),
    isSample: z.boolean().describe('development sample data, not a real point'),
    active: z.boolean(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .describe('BridgePoint');

export type BridgePointView = z.infer<typeof bridgePointView>;
