import t from 'tap';
import { vi } from '../../src/web/i18n/vi.ts';
import { en } from '../../src/web/i18n/en.ts';

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

t.test('both languages have every string, with the same placeholders', async (t) => {
  const viKeys = Object.keys(vi).sort();
  t.same(Object.keys(en).sort(), viKeys, 'same keys in en and vi');
  const empty = viKeys.filter((k) => !vi[k as keyof typeof vi].trim() || !en[k as keyof typeof en].trim());
  const mismatched = viKeys.filter((k) => placeholders(vi[k as keyof typeof vi]).join() !== placeholders(en[k as keyof typeof en]).join());
  t.same(empty, [], 'no empty string');
  t.same(mismatched, [], 'the same {placeholders} in both languages');
});

t.test('Vietnamese is written with its diacritics (precomposed, NFC)', async (t) => {
  const all = Object.values(vi).join('\n');
  t.equal(all, all.normalize('NFC'), 'every string is NFC, so fonts and search treat it right');
  t.match(vi['room.join'], /^Vào buổi tiếp$/);
  t.match(vi['preflight.title'], /^Kiểm thử kết nối trước buổi tiếp$/);
  // A sentence without any diacritic in a Vietnamese catalogue is a sign of an unaccented draft.
  const unaccented = Object.entries(vi).filter(([, v]) => v.split(' ').length >= 4 && !/[àáảãạăắằẳẵặâấầẩẫậđèéẻẽẹêếềểễệìíỉĩịòóỏõọôốồổỗộơớờởỡợùúủũụưứừửữựỳýỷỹỵ]/i.test(v));
  t.same(unaccented, [], 'no sentence lacks diacritics');
});

t.test('the law\'s own words (law review §3): buổi tiếp, kiểm thử, no "Trình duyệt" for submitting', async (t) => {
  t.equal(vi['sessions.submit'], 'Trình Chủ tịch UBND tỉnh cho ý kiến', '"Trình duyệt" also means a web browser');
  t.equal(vi['nav.live'], 'Buổi tiếp đang diễn ra', '"trực tiếp" means in person in this field');
  t.equal(vi['role.endpoint'], 'Điểm cầu thành phần', 'one term for the component points (NĐ 154 Art 3(5))');
  // "phiên" suggests a court or meeting session; only "phiên dịch" (interpreter) and "phiên bản" (version) may stay.
  const phien = Object.entries(vi).filter(([, v]) => /phiên(?! dịch| bản)/i.test(v)).map(([k]) => k);
  t.same(phien, [], 'no "phiên" for the reception');
  const kiemTraKetNoi = Object.entries(vi).filter(([, v]) => /kiểm tra kết nối/i.test(v)).map(([k]) => k);
  t.same(kiemTraKetNoi, [], 'the Quy chế says kiểm thử');
  const micro = Object.entries(vi).filter(([, v]) => /\bmicro\b/i.test(v)).map(([k]) => k);
  t.same(micro, [], 'one spelling: micrô');
});
