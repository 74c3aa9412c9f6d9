/** The role rules as pure functions: who sees whom, who waits in the lobby, who may do what. No workers. */
import t from 'tap';
import { PARTICIPANT_ROLES, type ParticipantRole } from '../contract/signalingConstants.ts';
import { canSee, joinsInLobby, knowsOf, requireAdmitted, requirePermission } from './permissions.ts';

const p = (role: ParticipantRole, admitted = true) => ({ role, admitted });

t.test('visibility: the centre sees everyone; communes see each other only when the chair allows', async (t) => {
  const apart = { lobbyEnabled: false, endpointsSeeEachOther: false };
  const together = { lobbyEnabled: false, endpointsSeeEachOther: true };
  const host = p('host');
  const a = p('endpoint');
  const b = p('endpoint');
  t.ok(canSee(host, a, apart), 'the host sees a commune');
  t.ok(canSee(a, host, apart), 'a commune sees the host');
  t.notOk(canSee(a, b, apart), 'communes do not see each other by default');
  t.ok(canSee(a, b, together), '…unless the chair allows it');
  t.ok(canSee(p('central'), a, apart), 'the central room sees the communes');
  t.ok(canSee(p('observer'), a, apart), 'an observer receives everyone');
  t.notOk(canSee(p('technician'), a, together), 'a technician receives no media');
  t.notOk(canSee(host, host, together), 'nobody consumes itself');
  t.notOk(canSee(host, p('endpoint', false), together), 'nobody sees a peer waiting in the lobby');
  t.notOk(canSee(p('endpoint', false), host, together), 'a peer in the lobby sees nobody');
});

t.test('who is told of whom: communes that may not see each other are not told of each other', async (t) => {
  const apart = { lobbyEnabled: false, endpointsSeeEachOther: false };
  const together = { lobbyEnabled: false, endpointsSeeEachOther: true };
  t.notOk(knowsOf(p('endpoint'), p('endpoint'), apart), 'a commune is not told of another commune');
  t.ok(knowsOf(p('endpoint'), p('endpoint'), together), '…unless they may see each other');
  t.ok(knowsOf(p('endpoint'), p('host'), apart), 'a commune is told of the centre');
  for (const viewer of ['host', 'central', 'observer', 'technician'] as const) t.ok(knowsOf(p(viewer), p('endpoint'), apart), `the ${viewer} is told of every commune`);
});

t.test('lobby: with a lobby, everyone but the host and the technician waits; a contested seat always does', async (t) => {
  const lobby = { lobbyEnabled: true, endpointsSeeEachOther: false };
  const open = { lobbyEnabled: false, endpointsSeeEachOther: false };
  const waits = PARTICIPANT_ROLES.filter((r) => joinsInLobby(r, lobby));
  t.same(waits, ['central', 'endpoint', 'observer']);
  t.same(PARTICIPANT_ROLES.filter((r) => joinsInLobby(r, open)), [], 'no lobby: nobody waits');
  t.ok(joinsInLobby('host', open, true), 'a contested seat waits even for the host role (M1)');
});

t.test('permissions: what each role may do', async (t) => {
  t.doesNotThrow(() => requirePermission('endpoint', 'produce'));
  t.throws(() => requirePermission('observer', 'produce'), { code: 'FORBIDDEN', message: 'your role may not send media' });
  t.throws(() => requirePermission('technician', 'consume'), { code: 'FORBIDDEN' });
  t.throws(() => requirePermission('endpoint', 'moderate', 'eject participants'), { code: 'FORBIDDEN', message: 'your role may not eject participants' });
  t.doesNotThrow(() => requirePermission('host', 'moderate'));
  t.doesNotThrow(() => requirePermission('technician', 'inspect'));
  t.throws(() => requireAdmitted(p('endpoint', false)), { code: 'IN_LOBBY' });
});
