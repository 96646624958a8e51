// Registered classes cross processes whatever module loaded them: a class defined and registered in a
// module of the app (test/api/money.ts) keeps its class on the executors even when no shipped function
// names it (the driver ships the registering module to executors), through a shuffle, a cache, a broadcast
// and a capture, and arrives back on the driver as instances. local[2]: real executor processes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sharedContext, sorted } from './ctx.js';
import { Money } from './money.js';

const ctx = sharedContext();

const wallet = (): Money[] => [
  new Money(150, 'EUR'),
  new Money(250, 'USD'),
  new Money(1000, 'EUR'),
  new Money(5, 'USD'),
  new Money(45, 'GBP'),
];

test('records of a class registered in its own module: methods work on executors through a shuffle; collected back as instances', async () => {
  const sc = ctx();
  // none of these functions names Money: only its instances' methods are used
  const totals = await sc
    .parallelize(wallet(), 3)
    .map((m) => [m.currency, m] as [string, Money])
    .reduceByKey((a, b) => a.plus(b), 2)
    .collect();
  assert.ok(
    totals.every(([, m]) => m instanceof Money),
    'every value comes back a Money',
  );
  assert.deepEqual(sorted(totals.map(([c, m]) => [c, m.toString()])), [
    ['EUR', '11.50 EUR'],
    ['GBP', '0.45 GBP'],
    ['USD', '2.55 USD'],
  ]);
  // made on the executors by a method (new Money inside money.ts), grouped, and described there
  const described = await sc
    .parallelize(wallet(), 2)
    .map((m) => m.plus(m))
    .groupBy((m) => m.currency, 2)
    .mapValues((ms) => ms.map((m) => `${m}`).sort())
    .collect();
  assert.deepEqual(sorted(described), [
    ['EUR', ['20.00 EUR', '3.00 EUR']],
    ['GBP', ['0.90 GBP']],
    ['USD', ['0.10 USD', '5.00 USD']],
  ]);
});

test('a cached RDD, a broadcast and a captured value of the class keep it on the executors', async () => {
  const sc = ctx();
  const fee = sc.broadcast(new Money(10, 'EUR'));
  const bonus = new Money(1, 'EUR');
  const eur = sc
    .parallelize(wallet(), 2)
    .filter((m) => m.currency === 'EUR')
    .cache();
  const withFee = await eur.map((m) => m.plus(fee.value).plus(bonus).toString(), { fee, bonus }).collect();
  assert.deepEqual(withFee.sort(), ['1.61 EUR', '10.11 EUR']);
  const back = await eur.collect();
  assert.ok(back.every((m) => m instanceof Money));
  assert.deepEqual(
    back.map((m) => m.cents).sort((a, b) => a - b),
    [150, 1000],
  );
});
