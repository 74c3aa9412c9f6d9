import t from 'tap';
import { DownlinkBudget } from './DownlinkBudget.ts';

const LAYERS = [130_000, 450_000, 1_000_000];

t.test('a new viewer starts on the lowest layer, whatever it wants', async (t) => {
  const budget = new DownlinkBudget();
  t.equal(budget.layerFor(LAYERS, 2), 0);
});

t.test('the budget rises only after three higher estimates, to the lowest of them', async (t) => {
  const budget = new DownlinkBudget({ raiseAfterReports: 3, audioReserve: 60_000 });
  t.notOk(budget.observe(2_000_000));
  t.notOk(budget.observe(1_200_000));
  t.equal(budget.layerFor(LAYERS, 2), 0, 'two reports are not enough');
  t.ok(budget.observe(1_500_000));
  t.equal(budget.videoBitrate, 1_140_000);
  t.equal(budget.layerFor(LAYERS, 2), 2);
  t.equal(budget.layerFor(LAYERS, 1), 1, 'never above what the view wants');
});

t.test('a lower estimate cuts the budget at once; one probe spike does not raise it', async (t) => {
  const budget = new DownlinkBudget({ raiseAfterReports: 3, audioReserve: 60_000 });
  for (const b of [700_000, 700_000, 700_000]) budget.observe(b);
  t.equal(budget.layerFor(LAYERS, 2), 1);
  t.ok(budget.observe(180_000), 'a 250 kbps link');
  t.equal(budget.layerFor(LAYERS, 2, 1), 0);
  budget.observe(320_000);
  budget.observe(170_000);
  budget.observe(320_000);
  budget.observe(330_000);
  t.equal(budget.videoBitrate, 110_000, 'the spike was followed by a lower report: the count starts again');
});

t.test('a viewer on a layer keeps it while the budget wavers just under its bitrate', async (t) => {
  const budget = new DownlinkBudget({ raiseAfterReports: 1, audioReserve: 0 });
  budget.observe(1_000_000);
  t.equal(budget.layerFor(LAYERS, 2, 0), 2);
  budget.observe(950_000);
  t.equal(budget.layerFor(LAYERS, 2, 2), 2, 'kept at 95 %');
  t.equal(budget.layerFor(LAYERS, 2, 1), 1, 'not raised to it at 95 %');
  budget.observe(700_000);
  t.equal(budget.layerFor(LAYERS, 2, 2), 1, 'moved down at 70 %');
});

t.test('unknown layer bitrates and nonsense estimates', async (t) => {
  const budget = new DownlinkBudget({ raiseAfterReports: 1, audioReserve: 0 });
  t.notOk(budget.observe(Number.NaN));
  t.notOk(budget.observe(-5));
  budget.observe(5_000_000);
  t.equal(budget.layerFor([undefined, undefined, undefined], 2), 0, 'no announced bitrates: lowest layer');
  t.equal(budget.layerFor([130_000], 2), 0, 'a single encoding');
});
