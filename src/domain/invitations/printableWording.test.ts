import t from 'tap';
import { properName } from './printableInvitation.ts';
import { documentDate } from '../afterSitting/labels.ts';

t.test('the issuer inside a sentence is a proper name, as the Quy chế writes it', async (t) => {
  t.equal(properName('BAN TIẾP CÔNG DÂN TỈNH'), 'Ban Tiếp công dân tỉnh');
  t.equal(properName('THANH TRA TỈNH'), 'Thanh tra tỉnh');
  t.equal(properName('VĂN PHÒNG UBND TỈNH'), 'Văn phòng UBND tỉnh', 'abbreviations stay in capitals');
});

t.test('document dates: a zero before days below 10 and months below 3 only (NĐ 30/2020)', async (t) => {
  t.equal(documentDate('2026-04-05'), 'ngày 05 tháng 4 năm 2026');
  t.equal(documentDate('2026-02-15'), 'ngày 15 tháng 02 năm 2026');
  t.equal(documentDate('2026-12-31'), 'ngày 31 tháng 12 năm 2026');
});
