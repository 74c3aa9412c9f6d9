import t from 'tap';
import { formatJoinCode, JOIN_CODE_ALPHABET, newJoinCode, normaliseJoinCode } from './joinCode.ts';

t.test('join codes: no look-alikes, typed forgivingly, refused when they cannot be one', async (t) => {
  t.notMatch(JOIN_CODE_ALPHABET, /[0O1I]/, 'no 0/O/1/I');
  t.equal(new Set(JOIN_CODE_ALPHABET).size, 32, '32 symbols: 5 bits each');
  const codes = new Set(Array.from({ length: 2000 }, () => newJoinCode()));
  t.equal(codes.size, 2000, 'no repeats in 2,000');
  t.ok([...codes].every((c) => /^[A-HJ-NP-Z2-9]{10}$/.test(c)), 'every one matches the database check’s pattern');
  const code = [...codes][0]!;
  t.equal(normaliseJoinCode(` ${formatJoinCode(code).toLowerCase()} `), code, 'as printed, in lower case, with spaces: accepted');
  t.equal(normaliseJoinCode(code.slice(0, 9)), undefined, 'too short');
  t.equal(normaliseJoinCode('ABCDE-FGH0K'), undefined, 'a zero is not in the alphabet');
  t.equal(normaliseJoinCode('ABCDE-FGHIK'), undefined, 'nor an I');
  t.equal(formatJoinCode('ABCDEFGHJK'), 'ABCDE-FGHJK');
});
