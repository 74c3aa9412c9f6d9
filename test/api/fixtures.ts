import type { ControlApiHarness } from './harness.ts';

/** Small builders over the real API, so tests read like the workflow. */
export async function createPoint(h: ControlApiHarness, code: string, kind: 'central' | 'commune' | 'ward' = 'commune'): Promise<string> {
  const r = await h.call('POST', '/api/v1/bridge-points', { as: 'admin', body: { code, name: `Điểm cầu ${code}`, kind } });
  if (r.status !== 201) throw new Error(`createPoint: ${r.status} ${r.text}`);
  return r.body.id;
}

export async function createCase(h: ControlApiHarness, body: Record<string, unknown> = {}): Promise<string> {
  const r = await h.call('POST', '/api/v1/cases', {
    as: 'reception_board',
    body: {
      type: 'khieu_nai',
      title: 'Khiếu nại về bồi thường giải phóng mặt bằng',
      summary: 'Công dân khiếu nại quyết định bồi thường',
      criteria: ['a'],
      people: [{ role: 'complainant', fullName: 'Nguyễn Văn Khiếu', idNumber: '052088001234', address: 'thôn 3, xã Mẫu', phone: '0905000111' }],
      ...body,
    },
  });
  if (r.status !== 201) throw new Error(`createCase: ${r.status} ${r.text}`);
  return r.body.id;
}

export interface SessionSpec {
  start?: string;
  end?: string;
  caseIds?: string[];
  bridgePointIds?: string[];
  chairUserId?: string | null;
  participants?: { role: string; label: string; bridgePointId?: string | null }[];
}

export async function createSession(h: ControlApiHarness, spec: SessionSpec = {}): Promise<string> {
  const r = await h.call('POST', '/api/v1/sessions', {
    as: 'reception_board',
    body: {
      title: 'Tiếp công dân định kỳ tháng 2',
      scheduledStart: spec.start ?? '2026-02-23T08:00:00+07:00',
      scheduledEnd: spec.end ?? '2026-02-23T11:00:00+07:00',
      location: 'Trụ sở Tiếp công dân tỉnh',
      chairTitle: 'Chủ tịch UBND tỉnh',
      chairUserId: spec.chairUserId ?? null,
      caseIds: spec.caseIds ?? [],
      bridgePointIds: spec.bridgePointIds ?? [],
      participants: spec.participants ?? [],
    },
  });
  if (r.status !== 201) throw new Error(`createSession: ${r.status} ${r.text}`);
  return r.body.id;
}

/** submit → approve (the clock must be early enough). */
export async function approve(h: ControlApiHarness, sessionId: string): Promise<void> {
  const s = await h.call('POST', `/api/v1/sessions/${sessionId}/submit`, { as: 'reception_board', body: {} });
  if (s.status !== 200) throw new Error(`submit: ${s.status} ${s.text}`);
  const a = await h.call('POST', `/api/v1/sessions/${sessionId}/decision`, { as: 'approver', body: { decision: 'approved', comment: 'Đồng ý' } });
  if (a.status !== 200) throw new Error(`approve: ${a.status} ${a.text}`);
}

export const passingResult = { connected: true, icePath: 'udp', rttMs: 40, lossPct: 0.2, bitrateKbps: 1200, camera: true, microphone: true };
