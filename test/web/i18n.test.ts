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
  t.match(vi['room.join'], /^Vào phiên$/);
  t.match(vi['preflight.title'], /Kiểm tra kết nối/);
  // A sentence without any diacritic in a Vietnamese catalogue is a sign of an unaccented draft.
  const unaccented = Object.entries(vi).filter(([, v]) => v.split(' ').length >= 4 && !/[àáảãạăắằẳẵặâấầẩẫậđèéẻẽẹêếềểễệìíỉĩịòóỏõọôốồổỗộơớờởỡợùúủũụưứừửữựỳýỷỹỵ]/i.test(v));
  t.same(unaccented, [], 'no sentence lacks diacritics');
});
