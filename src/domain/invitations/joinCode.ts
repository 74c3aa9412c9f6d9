import { randomInt } from 'node:crypto';

/**
 * The short join code printed on the giấy mời beside its QR code (issue 11 item 10): ten
 * characters from an alphabet without the look-alikes 0/O and 1/I, so that it can be read off
 * paper and typed on a commune PC. 32 symbols × 10 = 50 bits: with guesses rate limited per
 * address (joinCodeRoutes), no one finds a live code by trying. It stands for the invitation's
 * token and nothing else: the exchange checks the invitation's own expiry and revocation.
 */
export const JOIN_CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
export const JOIN_CODE_LENGTH = 10;

export function newJoinCode(): string {
  let code = '';
  for (let i = 0; i < JOIN_CODE_LENGTH; i++) code += JOIN_CODE_ALPHABET[randomInt(JOIN_CODE_ALPHABET.length)];
  return code;
}

/**
 * What the person typed, as stored: upper case, without the spaces and dashes of the printed
 * groups; undefined when it cannot be a code (wrong length, or a character not in the alphabet).
 */
export function normaliseJoinCode(typed: string): string | undefined {
  const code = typed.toUpperCase().replace(/[\s-]/g, '');
  if (code.length !== JOIN_CODE_LENGTH) return undefined;
  for (const c of code) if (!JOIN_CODE_ALPHABET.includes(c)) return undefined;
  return code;
}

/** "ABCDE-FGHJK": two groups of five read better aloud and on paper. */
export function formatJoinCode(code: string): string {
  return `${code.slice(0, 5)}-${code.slice(5)}`;
}
