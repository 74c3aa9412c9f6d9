/**
 * Sets up what the load bench measures through the real control API (PostgreSQL behind it): staff
 * users, one central bridge point and N commune points, a session without lobby or automatic
 * recording (the bench measures the conference, not the recorder), one case on the agenda,
 * approval, invitations sent.
 */
import type { TiepdanServer } from '../../src/server.ts';
import { staffClient } from '../../test/live/liveHelpers.ts';
import { z } from 'zod';

const invitationsSchema = z.object({ invitations: z.array(z.object({ token: z.string().nullable(), bridgePointId: z.string().nullable() }).loose()) });

export interface LoadSession {
  sessionId: string;
  centralToken: string;
  pointTokens: string[];
}

export type Staff = ReturnType<typeof staffClient>;

export async function benchStaff(server: TiepdanServer): Promise<Staff> {
  const staff = staffClient(server, `load${process.pid}`);
  for (const role of ['admin', 'reception_board', 'approver'] as const) await staff.addUser(role);
  return staff;
}

let made = 0;

export async function createLoadSession(staff: Staff, points: number): Promise<LoadSession> {
  const tag = `L${process.pid}-${++made}`;
  const central = await staff.api('admin', 'POST', '/bridge-points', { code: `${tag}-TW`, name: `Điểm cầu trung tâm ${tag}`, kind: 'central' });
  const communes: string[] = [];
  for (let i = 0; i < points; i++) communes.push((await staff.api('admin', 'POST', '/bridge-points', { code: `${tag}-XA${i}`, name: `UBND xã ${i + 1}`, kind: 'commune' })).id);
  const kase = await staff.api('reception_board', 'POST', '/cases', { type: 'kien_nghi', title: 'Kiến nghị về đường giao thông liên xã', summary: 'Kiến nghị', criteria: ['a'], people: [] });
  const start = new Date(Date.now() + 30 * 86400_000);
  const session = await staff.api('reception_board', 'POST', '/sessions', {
    title: `Đo tải ${points} điểm cầu`,
    scheduledStart: start.toISOString(),
    scheduledEnd: new Date(start.getTime() + 3 * 3600_000).toISOString(),
    location: 'Trụ sở Tiếp công dân tỉnh',
    chairTitle: 'Chủ tịch UBND tỉnh',
    chairUserId: null,
    maxPeers: Math.min(500, points + 5),
    lobbyEnabled: false,
    autoRecord: false,
    caseIds: [kase.id],
    bridgePointIds: [central.id, ...communes],
    participants: [],
  });
  await staff.api('reception_board', 'POST', `/sessions/${session.id}/submit`, {});
  await staff.api('approver', 'POST', `/sessions/${session.id}/decision`, { decision: 'approved', comment: 'Đồng ý' });
  const sent = invitationsSchema.parse(await staff.api('reception_board', 'POST', `/sessions/${session.id}/invitations`, {}));
  const tokenFor = (pointId: string) => {
    const t = sent.invitations.find((i) => i.bridgePointId === pointId)?.token;
    if (t == null) throw new Error(`no invitation for bridge point ${pointId}`);
    return t;
  };
  return { sessionId: session.id, centralToken: tokenFor(central.id), pointTokens: communes.map(tokenFor) };
}
