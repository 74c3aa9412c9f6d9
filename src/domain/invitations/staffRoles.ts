/** The staff roles that chair a live session from the console (they get the `host` live role). */
export const CHAIR_ROLES = ['reception_board', 'inspectorate', 'approver'] as const;

/**
 * The live role a staff member's personal credential carries for their account role, or undefined
 * when the role takes no part. Issuing (InvitationService) and admitting (PgSessionDirectory) use
 * this one mapping, so a role change takes effect at the next join.
 */
export function staffLiveRole(userRole: string): 'host' | 'technician' | undefined {
  if ((CHAIR_ROLES as readonly string[]).includes(userRole)) return 'host';
  return userRole === 'technician' ? 'technician' : undefined;
}
