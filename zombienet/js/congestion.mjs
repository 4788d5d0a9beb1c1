// Congestion run (issue 6, benchmarks/congestion.sh): against a fresh dev node, sets up N
// leveraged BTC traders, floods the pool with ordinary normal-class transactions (utility
// batches of transfers and a remark, from many funded accounts) until the normal class is full
// block after block, then crashes BTC 6% and records, block by block, how full the normal class
// is, how many liquidations and oracle feeds are included, until every trader is liquidated.
// Writes the table and the verdict against the targets as Markdown.
//
// Usage: node congestion.mjs ws://127.0.0.1:PORT OUT.md CAPACITY [ACCOUNTS]
//   CAPACITY: L, the liquidations per block the weights promise (benchmarks/CAPACITY.md).
import { writeFileSync } from 'node:fs';
import { ApiPromise, Keyring, WsProvider } from '@polkadot/api';
import { BTC, BTC_PERP, PERP, UNIT, USD, USD_UNIT, priceView } from './common.mjs';

const [endpoint, outPath, capacityArg, accountsArg] = process.argv.slice(2);
const L = Number(capacityArg);
const N = Number(accountsArg ?? 1000);
if (!endpoint || !outPath || !(L > 0) || !(N > 0)) {
  console.error('usage: node congestion.mjs ws://HOST:PORT OUT.md CAPACITY [ACCOUNTS]');
  process.exit(2);
}

const PRICE = 65_000n;
const CRASHED = 61_100n; // -6%
const MARGIN = 500n; // USD each trader deposits
const FLOODERS = 32;
const TRANSFERS_PER_BATCH = 250;
const REMARK_BYTES = 1_024;
const MAX_PENDING = 3; // flood batches each flooder keeps in the pool
const DEADLINE_BLOCKS = 40; // after the crash
const DEADLINE_MS = 3_600_000;

const say = (message) => console.log(`congestion: ${message}`);
function fail(message) {
  console.error(`congestion: FAIL: ${message}`);
  process.exit(1);
}
setTimeout(() => fail(`not done within ${DEADLINE_MS / 1000} s`), DEADLINE_MS).unref();

// Submits signed transactions without waiting; nonces are tracked here, so many go per block.
class Sender {
  constructor(api, pair) {
    this.api = api;
    this.pair = pair;
    this.nonce = null;
  }
  async send(tx) {
    while (this.nonce === null) {
      // Concurrent sends share one lookup.
      this.loading ??= this.api.rpc.system.accountNextIndex(this.pair.address).then((n) => {
        this.nonce ??= n.toNumber();
        this.loading = null;
      });
      await this.loading;
    }
    const nonce = this.nonce++;
    await tx.signAsync(this.pair, { nonce, era: 0 });
    try {
      return await this.api.rpc.author.submitExtrinsic(tx);
    } catch (error) {
      this.nonce = null; // re-read from the chain next time
      throw new Error(`${this.pair.address} nonce ${nonce}: ${error.message}`);
    }
  }
}

// Resolves once `done()` holds at a new block; fails after `blocks` blocks. Blocks are handled
// one at a time, in order.
async function untilBlock(api, what, blocks, done) {
  let unsubscribe = () => {};
  let seen = 0;
  let queue = Promise.resolve();
  let finished = false;
  await new Promise((resolve, reject) => {
    api.rpc.chain
      .subscribeNewHeads((header) => {
        queue = queue.then(async () => {
          if (finished) return;
          try {
            if (await done(header)) {
              finished = true;
              resolve();
            } else if (++seen > blocks) {
              finished = true;
              reject(new Error(`${what}: not within ${blocks} blocks`));
            }
          } catch (error) {
            finished = true;
            reject(error);
          }
        });
      })
      .then((u) => {
        unsubscribe = u;
      });
  });
  unsubscribe();
}

// Every new block, each feeder feeds BTC at `price.value`: feeds go in the operational class.
function startFeeding(api, feeders, price) {
  let busy = false;
  return api.rpc.chain.subscribeNewHeads(async () => {
    if (busy) return;
    busy = true;
    try {
      await Promise.all(feeders.map((f) => f.send(api.tx.oracle.feed([[BTC, price.value * UNIT]]))));
    } catch (error) {
      say(`a feed was refused: ${error.message}`);
    } finally {
      busy = false;
    }
  });
}

async function setUp(api, keyring, feeders) {
  const [dave, eve, ferdie] = ['//Dave', '//Eve', '//Ferdie'].map((u) => new Sender(api, keyring.addFromUri(u)));
  const traders = Array.from({ length: N }, (_, i) => keyring.addFromUri(`//Trader${i}`));
  const flooders = Array.from({ length: FLOODERS }, (_, i) => keyring.addFromUri(`//Flooder${i}`));
  say(`${N} traders and ${FLOODERS} flooders derived`);

  // Dave, Eve and Ferdie fund the traders (fees and margin) and Dave the flooders, 100 accounts
  // per batch; Eve pays 100,000 USD into the insurance fund.
  const funders = [dave, eve, ferdie];
  const funding = [];
  for (let start = 0; start < N; start += 100) {
    const calls = traders.slice(start, start + 100).flatMap((t) => [
      api.tx.balances.transferKeepAlive(t.address, 5n * PERP),
      api.tx.assets.transferKeepAlive(USD, t.address, MARGIN * USD_UNIT),
    ]);
    funding.push(funders[(start / 100) % 3].send(api.tx.utility.batchAll(calls)));
  }
  funding.push(
    dave.send(api.tx.utility.batchAll(flooders.map((f) => api.tx.balances.transferKeepAlive(f.address, 100n * PERP)))),
  );
  funding.push(eve.send(api.tx.margin.deposit(USD, 100_000n * USD_UNIT)));
  funding.push(eve.send(api.tx.liquidation.fundInsurance(100_000n * USD_UNIT)));
  await Promise.all(funding);
  await untilBlock(api, 'funding', 10, async () => {
    const last = await api.query.assets.account(USD, traders[N - 1].address);
    const flooder = await api.query.system.account(flooders[FLOODERS - 1].address);
    return last.isSome && flooder.data.free.toBigInt() > 0n;
  });
  say('traders and flooders funded');

  // Each trader deposits its USD and goes long BTC at 13x to 17x: after a 6% fall every one is
  // below maintenance and closed in full (13x: its equity no longer covers the discount and
  // penalty of closing; 14x-16x: below half the maintenance margin; 17x: bankrupt, the fund
  // pays the shortfall).
  await untilBlock(api, 'a fresh BTC price', 10, async () => {
    const btc = await priceView(api, BTC);
    return btc && btc.price.status.toString() === 'Fresh';
  });
  const opening = traders.map((t, i) => {
    const leverage = 13n + BigInt(i % 5);
    const size = (MARGIN * leverage * 100_000_000n) / PRICE;
    return new Sender(api, t).send(
      api.tx.utility.batchAll([api.tx.margin.deposit(USD, MARGIN * USD_UNIT), api.tx.margin.trade(BTC_PERP, size)]),
    );
  });
  await Promise.all(opening);
  await untilBlock(api, 'positions', 20, async () => {
    const accounts = await api.query.margin.accounts.multi(traders.map((t) => t.address));
    return accounts.every((a) => a.isSome && a.unwrap().positions.length === 1);
  });
  const liquidatable = (await api.call.liquidationApi.candidates(N)).length;
  if (liquidatable !== 0) fail(`${liquidatable} accounts liquidatable before the crash`);
  say(`${N} traders hold a leveraged BTC position; none is liquidatable at ${PRICE} USD`);
  return { traders, flooders };
}

// Keeps every flooder at MAX_PENDING batches in the pool: 250 transfers of 1 milli-PERP to the
// next flooder and one remark each.
function startFlood(api, flooders) {
  const senders = flooders.map((f) => new Sender(api, f));
  const remark = `0x${'ab'.repeat(REMARK_BYTES)}`;
  const batches = flooders.map((_, i) => {
    const next = flooders[(i + 1) % flooders.length].address;
    const calls = Array.from({ length: TRANSFERS_PER_BATCH }, () => api.tx.balances.transferKeepAlive(next, PERP / 1_000n));
    calls.push(api.tx.system.remark(remark));
    return calls;
  });
  let busy = false;
  const stats = { submitted: 0, refused: 0 };
  const unsubscribe = api.rpc.chain.subscribeNewHeads(async () => {
    if (busy) return;
    busy = true;
    try {
      const onChain = await api.query.system.account.multi(flooders.map((f) => f.address));
      await Promise.all(
        senders.map(async (s, i) => {
          if (s.nonce === null) s.nonce = onChain[i].nonce.toNumber();
          while (s.nonce - onChain[i].nonce.toNumber() < MAX_PENDING) {
            await s.send(api.tx.utility.batch(batches[i])).then(
              () => stats.submitted++,
              () => stats.refused++,
            );
            if (s.nonce === null) break;
          }
        }),
      );
    } finally {
      busy = false;
    }
  });
  return { unsubscribe, stats };
}

// One block's numbers.
async function measure(api, header, limits, traders) {
  const hash = header.hash;
  const [block, at] = await Promise.all([api.rpc.chain.getBlock(hash), api.at(hash)]);
  const [events, weight, price] = await Promise.all([
    at.query.system.events(),
    at.query.system.blockWeight(),
    at.query.oracle.aggregates(BTC),
  ]);
  const extrinsics = block.block.extrinsics;
  const classes = new Map();
  const liquidated = [];
  let failed = 0;
  for (const { phase, event } of events) {
    if (phase.isApplyExtrinsic) {
      const i = phase.asApplyExtrinsic.toNumber();
      if (api.events.system.ExtrinsicSuccess.is(event)) classes.set(i, event.data.dispatchInfo.class.toString());
      if (api.events.system.ExtrinsicFailed.is(event)) {
        classes.set(i, event.data.dispatchInfo.class.toString());
        failed++;
      }
    }
    if (api.events.liquidation.Liquidated.is(event)) {
      const who = event.data.who.toString();
      if (traders.has(who)) liquidated.push(who);
    }
  }
  let normalLength = 0;
  let flood = 0;
  let liquidations = 0;
  let feeds = 0;
  extrinsics.forEach((ex, i) => {
    if (classes.get(i) === 'Normal') normalLength += ex.encodedLength;
    const { section, method } = ex.method;
    if (section === 'utility' && method === 'batch') flood++;
    if (section === 'liquidation' && method === 'liquidate') liquidations++;
    if (section === 'oracle' && method === 'feed') feeds++;
  });
  return {
    number: header.number.toNumber(),
    normal: weight.normal.refTime.toBigInt(),
    operational: weight.operational.refTime.toBigInt(),
    normalFill: Number((weight.normal.refTime.toBigInt() * 1000n) / limits.normalWeight) / 10,
    lengthFill: Math.round((normalLength * 1000) / limits.normalLength) / 10,
    flood,
    liquidations,
    liquidated,
    feeds,
    failed,
    btc: price.isSome ? price.unwrap().price.toBigInt() / UNIT : null,
  };
}

async function main() {
  const api = await ApiPromise.create({ provider: new WsProvider(endpoint), throwOnConnect: true, noInitWarn: true });
  const keyring = new Keyring({ type: 'sr25519' });
  const limits = {
    normalWeight: api.consts.system.blockWeights.perClass.normal.maxTotal.unwrap().refTime.toBigInt(),
    normalLength: api.consts.system.blockLength.max.normal.toNumber(),
  };
  say(`normal class: ${limits.normalWeight / 1_000_000_000n} ms, ${limits.normalLength} bytes a block`);

  const feeders = ['//Alice', '//Bob', '//Charlie'].map((u) => new Sender(api, keyring.addFromUri(u)));
  const price = { value: PRICE };
  const stopFeeding = await startFeeding(api, feeders, price);
  const { traders, flooders } = await setUp(api, keyring, feeders);
  const traderSet = new Set(traders.map((t) => t.address));

  const flood = startFlood(api, flooders);
  const rows = [];
  const done = new Set();
  let crash = null; // the block whose aggregate is the crashed price
  let full = 0;
  let finishedAt = null;
  await untilBlock(api, 'the run', 200, async (header) => {
    const row = await measure(api, header, limits, traderSet);
    rows.push(row);
    row.liquidated.forEach((who) => done.add(who));
    row.done = done.size;
    if (crash === null && row.btc === CRASHED) crash = row.number;
    row.after = crash === null ? null : row.number - crash;
    say(
      `#${row.number}${row.after === null ? '' : ` (crash +${row.after})`}: normal ${row.normalFill}% weight, ` +
        `${row.lengthFill}% length, ${row.flood} flood batches; ${row.liquidations} liquidate, ` +
        `${row.liquidated.length} liquidated (${done.size}/${N}); ${row.feeds} feeds; BTC ${row.btc}`,
    );
    if (crash === null && rows.length > 30) {
      throw new Error(`no crash after ${rows.length} blocks: the normal class never stayed full for 3 blocks`);
    }
    if (crash === null && price.value === PRICE) {
      full = row.normalFill >= 90 ? full + 1 : 0;
      if (full >= 3) {
        say('the normal class has been full for 3 blocks: BTC crashes 6%');
        price.value = CRASHED;
      }
    }
    if (crash !== null && finishedAt === null && done.size >= N) finishedAt = row.number;
    if (finishedAt !== null && row.number >= finishedAt + 2) return true;
    if (crash !== null && row.after > DEADLINE_BLOCKS) return true;
    return false;
  });
  (await flood.unsubscribe)();
  stopFeeding();

  const during = rows.filter((r) => crash !== null && r.number >= crash - 3 && (finishedAt === null || r.number <= finishedAt));
  const firstRow = rows.find((r) => r.after !== null && r.liquidated.length > 0);
  const target = Math.ceil(N / L) + 1;
  const verdict = {
    first: firstRow ? firstRow.after : null,
    all: finishedAt === null ? null : finishedAt - crash,
    feedsEveryBlock: during.every((r) => r.feeds > 0),
    fullEveryBlock: during.filter((r) => r.number <= (finishedAt ?? Infinity)).every((r) => r.normalFill >= 90),
  };
  const lines = [
    `| block | after crash | normal class, weight | normal class, length | flood batches | liquidate extrinsics | \`Liquidated\` events | traders liquidated so far | oracle feeds | operational weight |`,
    `| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |`,
    ...rows
      .filter((r) => crash === null || r.number >= crash - 3)
      .map(
        (r) =>
          `| #${r.number} | ${r.after === null ? '' : `+${r.after}`} | ${r.normalFill}% | ${r.lengthFill}% | ${r.flood} | ` +
          `${r.liquidations} | ${r.liquidated.length} | ${r.done} | ${r.feeds} | ${(Number(r.operational) / 1e9).toFixed(1)} ms |`,
      ),
  ];
  const yes = (ok) => (ok ? 'met' : '**not met**');
  const summary = [
    `| target | measured | verdict |`,
    `| --- | --- | --- |`,
    `| first liquidation in the block after the crash (+1) | +${verdict.first ?? 'none'} | ${yes(verdict.first === 1)} |`,
    `| all ${N} within ceil(${N} / L) + 1 = ${target} blocks (L = ${L}) | ${verdict.all === null ? `not all within ${DEADLINE_BLOCKS} blocks (${done.size}/${N})` : `+${verdict.all}`} | ${yes(verdict.all !== null && verdict.all <= target)} |`,
    `| feeds included in every block from crash - 3 to the last liquidation | ${during.filter((r) => r.feeds > 0).length} of ${during.length} blocks | ${yes(verdict.feedsEveryBlock)} |`,
    `| normal class ≥ 90% full in every one of those blocks | ${during.filter((r) => r.normalFill >= 90).length} of ${during.length} blocks | ${yes(verdict.fullEveryBlock)} |`,
  ];
  const run = [
    `${N} traders (13x-17x long BTC, ${MARGIN} USD each); ${FLOODERS} flooders, each keeping ${MAX_PENDING} ` +
      `\`utility.batch\` of ${TRANSFERS_PER_BATCH} transfers and a ${REMARK_BYTES}-byte remark in the pool ` +
      `(${flood.stats.submitted} batches submitted, ${flood.stats.refused} refused by the pool); ` +
      `Alice, Bob and Charlie feed BTC every block; BTC crashes from ${PRICE} to ${CRASHED} USD ` +
      `(aggregated in #${crash}).`,
    '',
    'A `Liquidated` event is one liquidation of one account (an account partially liquidated ' +
      'in several blocks has one in each); "traders liquidated so far" counts each trader once. ' +
      '"Operational weight" is what the block accounted for the operational class: feeds, and ' +
      'liquidation batches at the weight they reported (declared at 8 positions an account, less ' +
      'the refund for the positions an account did not hold).',
  ];
  const markdown = ['## Targets', '', ...summary, '', '## The run', '', ...run, '', '## Blocks', '', ...lines, ''];
  writeFileSync(outPath, markdown.join('\n'));
  console.log(markdown.join('\n'));
  await api.disconnect();
  const met = verdict.first === 1 && verdict.all !== null && verdict.all <= target && verdict.feedsEveryBlock && verdict.fullEveryBlock;
  say(met ? 'targets met' : 'targets not met');
  process.exit(met ? 0 : 3);
}

main().catch((error) => fail(error.stack ?? String(error)));
