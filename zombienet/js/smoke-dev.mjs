// End-to-end smoke test of a running dev node through @polkadot/api:
// waits for finality, decodes the metadata and every block and its events so far, submits one
// signed transfer and checks it is included and succeeded, then exercises the oracle: the three
// dev feeders feed a price, read back through the OracleApi runtime API at their median; a lying
// feeder is excluded; with two feeders silent the price turns Stale after its max age. Then the
// validator's offchain worker feeds: a local HTTP price server is started, the node is given its
// URLs (offchain local storage) and the feeders' `orcl` keys, and ETH follows the server's price.
// Margin trading and an offchain-worker liquidation follow, then the compatibility check of the
// whole run through this polkadot.js and through @substrate/api-sidecar (sidecar.mjs).
//
// Usage: node smoke-dev.mjs ws://127.0.0.1:PORT
import fs from 'node:fs';
import http from 'node:http';
import { ApiPromise, Keyring, WsProvider } from '@polkadot/api';
import { BTC, BTC_PERP, DOT, DOT_UNIT, ETH, ETH_PERP, UNIT, USD, USD_UNIT, catchWarnings, hex, priceView, sendAndWait, sleep } from './common.mjs';
import { callProjectApis, decodeBlocks, readProjectStorage, submitEveryCall } from './compat.mjs';
import { checkSidecar } from './sidecar.mjs';

const endpoint = process.argv[2] ?? 'ws://127.0.0.1:9944';
const MIN_FINALIZED = 3;
const DEADLINE_MS = 600_000;

function fail(message) {
  console.error(`smoke: FAIL: ${message}`);
  process.exit(1);
}

const warnings = catchWarnings(['smoke:']);

const timer = setTimeout(() => fail(`not done within ${DEADLINE_MS / 1000} s`), DEADLINE_MS);

async function waitForFinalized(api, height) {
  let unsubscribe = () => {};
  const reached = await new Promise((resolve, reject) => {
    api.rpc.chain
      .subscribeFinalizedHeads((header) => {
        const n = header.number.toNumber();
        console.log(`smoke: finalized #${n}`);
        if (n >= height) resolve(n);
      })
      .then((unsub) => {
        unsubscribe = unsub;
      })
      .catch(reject);
  });
  unsubscribe();
  return reached;
}

async function transfer(api) {
  const keyring = new Keyring({ type: 'sr25519' });
  const alice = keyring.addFromUri('//Alice');
  const bob = keyring.addFromUri('//Bob');
  const amount = 1_000_000_000_000n;
  const before = (await api.query.system.account(bob.address)).data.free.toBigInt();

  const { events, blockHash } = await sendAndWait(
    api,
    api.tx.balances.transferKeepAlive(bob.address, amount),
    alice,
  );
  if (!events.some(({ event }) => api.events.system.ExtrinsicSuccess.is(event))) {
    fail('transfer included without ExtrinsicSuccess');
  }
  const after = (await api.query.system.account(bob.address)).data.free.toBigInt();
  if (after - before !== amount) fail(`Bob's balance moved by ${after - before}, not ${amount}`);
  return blockHash;
}


async function feedAndReadPrices(api) {
  const keyring = new Keyring({ type: 'sr25519' });
  const feeders = ['//Alice', '//Bob', '//Charlie'].map((uri) => keyring.addFromUri(uri));
  const prices = [64_900n, 65_100n, 65_000n];
  const before = await Promise.all(
    feeders.map(async (f) => (await api.query.system.account(f.address)).data.free.toBigInt()),
  );
  const results = await Promise.all(
    feeders.map((f, i) => sendAndWait(api, api.tx.oracle.feed([[BTC, prices[i] * UNIT]]), f)),
  );
  const aggregated = results.flatMap((r) => r.events).filter(({ event }) => api.events.oracle.PriceAggregated.is(event));
  if (aggregated.length === 0) fail('no PriceAggregated event after three feeds');

  // Accepted feeds pay no fee.
  for (const [i, f] of feeders.entries()) {
    const after = (await api.query.system.account(f.address)).data.free.toBigInt();
    if (after !== before[i]) fail(`feeder ${i} paid ${before[i] - after} for an accepted feed`);
  }

  const btc = await priceView(api, BTC);
  if (!btc) fail('OracleApi.prices lacks BTC');
  const status = btc.price.status.toString();
  const price = btc.price.price.toBigInt();
  if (status !== 'Fresh' || price !== 65_000n * UNIT) {
    fail(`BTC is ${status} at ${price}, expected Fresh at the median 65000`);
  }
  const raw = await api.call.oracleApi.rawValues(BTC);
  if (raw.length !== 3 || !raw.every((v) => v.fresh.isTrue)) fail('expected three fresh raw values');
  return btc.feeders.toNumber();
}

// Charlie lies by 20%: his value is excluded and the price stays at the honest median.
async function lyingFeederIsExcluded(api) {
  const keyring = new Keyring({ type: 'sr25519' });
  const charlie = keyring.addFromUri('//Charlie');
  const { events } = await sendAndWait(api, api.tx.oracle.feed([[BTC, 78_000n * UNIT]]), charlie);
  const excluded = events.find(({ event }) => api.events.oracle.ValuesExcluded.is(event));
  if (!excluded) fail('no ValuesExcluded event for a 20% outlier');
  const who = excluded.event.data.feeders.map((a) => a.toString());
  if (who.length !== 1 || who[0] !== charlie.address) fail(`excluded ${who}, expected Charlie`);
  // Alice's 64,900 and Bob's 65,100 remain: the price is their (lower) median.
  const price = (await priceView(api, BTC)).price.price.toBigInt();
  if (price < 64_900n * UNIT || price > 65_100n * UNIT) fail(`the outlier moved the price to ${price}`);
}

// Only Alice keeps feeding: no quorum, and once the last aggregate is older than max_age the
// status turns Stale; the stale price is still reported, but never as Fresh.
async function priceTurnsStaleWithoutQuorum(api) {
  const keyring = new Keyring({ type: 'sr25519' });
  const alice = keyring.addFromUri('//Alice');
  const maxAge = (await api.call.oracleApi.params()).maxAge.toNumber();
  const started = Date.now();
  let fed = false;
  for (;;) {
    const btc = await priceView(api, BTC);
    const status = btc.price.status.toString();
    if (status === 'Stale') return (Date.now() - started) / 1000;
    if (status !== 'Fresh') fail(`BTC turned ${status}, expected Fresh then Stale`);
    if (Date.now() - started > maxAge + 60_000) fail(`BTC still Fresh ${maxAge / 1000 + 60} s after the feeds stopped`);
    if (!fed && Date.now() - started > maxAge / 2) {
      const { events } = await sendAndWait(api, api.tx.oracle.feed([[BTC, 60_000n * UNIT]]), alice);
      if (!events.some(({ event }) => api.events.oracle.QuorumNotMet.is(event))) {
        fail('a lone feeder produced a price');
      }
      fed = true;
    }
    await sleep(3_000);
  }
}


// A price server. ETH: `/a` answers the price as a string, `/b` ten dollars higher as a number
// in a nested document, `/c` the price as a number, `/broken` a 500; BTC at `/btc`, DOT at `/dot`
// (any query string). `set(asset, cents)` moves a price.
async function startPriceServer() {
  const cents = new Map([
    [ETH, 300_025n],
    [BTC, 6_500_000n],
    [DOT, 500n],
  ]);
  const decimal = (c) => `${c / 100n}.${(c % 100n).toString().padStart(2, '0')}`;
  const server = http.createServer((req, res) => {
    const reply = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(body);
    };
    const path = req.url.split('?')[0];
    if (path === '/a') reply(200, JSON.stringify({ symbol: 'ETHUSD', price: decimal(cents.get(ETH)) }));
    else if (path === '/b') reply(200, `{"data": [{"last": ${decimal(cents.get(ETH) + 1_000n)}}]}`);
    else if (path === '/c') reply(200, `{"eth": {"usd": ${decimal(cents.get(ETH))}}}`);
    else if (path === '/btc') reply(200, JSON.stringify({ price: decimal(cents.get(BTC)) }));
    else if (path === '/dot') reply(200, `{"polkadot": {"usd": ${decimal(cents.get(DOT))}}}`);
    else reply(500, '{"error": "upstream down"}');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    set: (asset, c) => {
      cents.set(asset, c);
    },
    // The chain's price; for ETH the median of `/a`, `/b` and `/c`, i.e. `/a`'s.
    expected: (asset) => cents.get(asset) * 10n ** 16n,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

async function waitForPrice(api, asset, expected, what) {
  const started = Date.now();
  for (;;) {
    const view = await priceView(api, asset);
    if (view && view.price.status.toString() === 'Fresh' && view.price.price.toBigInt() === expected) {
      return { seconds: (Date.now() - started) / 1000, feeders: view.feeders.toNumber() };
    }
    if (Date.now() - started > 90_000) {
      fail(`asset ${asset} did not reach ${what} (${expected}) within 90 s: ${view ? JSON.stringify(view.price.toHuman()) : 'no view'}`);
    }
    await sleep(2_000);
  }
}

// The node already holds Alice's `orcl` key (the dev seed's session keys); Bob's and Charlie's
// are inserted over RPC. A node feeds an asset only on three or more agreeing sources. ETH
// sources: three that answer, one that fails with a 500 and one whose port refuses connections;
// the failing ones are skipped (e2e-dev.sh checks the node's log lines). BTC and DOT have three
// each. The server stays up for the margin phase.
async function offchainWorkersFeed(api) {
  const server = await startPriceServer();
  const keyring = new Keyring({ type: 'sr25519' });
  for (const uri of ['//Bob', '//Charlie']) {
    await api.rpc.author.insertKey('orcl', uri, hex(keyring.addFromUri(uri).publicKey));
  }
  const sources = [
    { asset: ETH, url: `${server.url}/a`, path: 'price' },
    { asset: ETH, url: `${server.url}/b`, path: 'data.0.last' },
    { asset: ETH, url: `${server.url}/c`, path: 'eth.usd' },
    { asset: ETH, url: `${server.url}/broken`, path: 'price' },
    { asset: ETH, url: 'http://127.0.0.1:1/closed', path: 'price' },
    ...[1, 2, 3].map((i) => ({ asset: BTC, url: `${server.url}/btc?${i}`, path: 'price' })),
    ...[1, 2, 3].map((i) => ({ asset: DOT, url: `${server.url}/dot?${i}`, path: 'polkadot.usd' })),
  ];
  await api.rpc.offchain.localStorageSet('PERSISTENT', hex('perp-oracle::sources'), hex(JSON.stringify(sources)));

  const first = await waitForPrice(api, ETH, server.expected(ETH), 'the server price');
  if (first.feeders !== 3) fail(`ETH aggregated from ${first.feeders} feeders, expected 3 offchain workers`);
  const raw = await api.call.oracleApi.rawValues(ETH);
  if (raw.length !== 3) fail(`expected raw ETH values from 3 feeders, got ${raw.length}`);

  server.set(ETH, 315_050n); // +5%: inside the circuit breaker's limit.
  const moved = await waitForPrice(api, ETH, server.expected(ETH), 'the moved server price');
  return { server, first: first.seconds, moved: moved.seconds };
}


function summary(account) {
  if (account.isNone) fail('MarginApi.account returned nothing for a trader');
  return account.unwrap();
}

// Eve deposits USD and DOT, goes long BTC and short ETH with leverage, and watches MarginApi as
// the price server moves BTC; she cannot withdraw below her initial margin.
async function marginTrading(api, server) {
  const eve = new Keyring({ type: 'sr25519' }).addFromUri('//Eve');
  await waitForPrice(api, BTC, server.expected(BTC), 'the server BTC price');
  await waitForPrice(api, DOT, server.expected(DOT), 'the server DOT price');
  await sendAndWait(api, api.tx.margin.deposit(USD, 10_000n * USD_UNIT), eve);
  await sendAndWait(api, api.tx.margin.deposit(DOT, 100n * DOT_UNIT), eve);
  // 0.5 BTC long (32,500 USD) and 5 ETH short (15,752 USD) on about 10,400 USD of equity.
  await sendAndWait(api, api.tx.margin.trade(BTC_PERP, 50_000_000n), eve);
  await sendAndWait(api, api.tx.margin.trade(ETH_PERP, -(5n * 10n ** 18n)), eve);

  const before = summary(await api.call.marginApi.account(eve.address));
  if (before.positions.length !== 2) fail(`expected 2 positions, got ${before.positions.length}`);
  if (before.state.toString() !== 'Healthy' || !before.pricesFresh.isTrue) fail(`account ${JSON.stringify(before.toHuman())}`);
  const [btc, eth] = [BTC_PERP, ETH_PERP].map((m) => before.positions.find((p) => p.market.toNumber() === m));
  const btcLiq = btc.liquidationPrice.unwrap().toBigInt();
  const ethLiq = eth.liquidationPrice.unwrap().toBigInt();
  if (btcLiq >= server.expected(BTC)) fail(`a long's liquidation price ${btcLiq} is not below the price`);
  if (ethLiq <= server.expected(ETH)) fail(`a short's liquidation price ${ethLiq} is not above the price`);

  server.set(BTC, 6_175_000n); // -5%
  await waitForPrice(api, BTC, server.expected(BTC), 'the lower BTC price');
  const after = summary(await api.call.marginApi.account(eve.address));
  const btcAfter = after.positions.find((p) => p.market.toNumber() === BTC_PERP);
  const ethAfter = after.positions.find((p) => p.market.toNumber() === ETH_PERP);
  // 0.5 BTC × -3,250 USD.
  const pnl = btcAfter.pnl.toBigInt();
  if (pnl > -1_624n * USD_UNIT || pnl < -1_626n * USD_UNIT) fail(`BTC PnL ${pnl} after a 3,250 USD fall`);
  const drop = before.equity.toBigInt() - after.equity.toBigInt();
  if (drop < 1_600n * USD_UNIT) fail(`equity fell by ${drop} only`);
  // With less equity, the short's liquidation price comes closer to the ETH price.
  const ethLiqAfter = ethAfter.liquidationPrice.unwrap().toBigInt();
  if (ethLiqAfter >= ethLiq) fail(`ETH liquidation price ${ethLiqAfter} did not come closer than ${ethLiq}`);

  // 9,000 of the ~9,976 USD cash would leave equity far below the initial margin.
  let refused = '';
  await sendAndWait(api, api.tx.margin.withdraw(USD, 9_000n * USD_UNIT), eve).catch((e) => {
    refused = e.message;
  });
  if (!refused.includes('margin.InsufficientMargin')) fail(`withdrawal into unsafety: ${refused || 'accepted'}`);
  return { equity: after.equity.toBigInt(), btcLiq, ethLiq, ethLiqAfter };
}

// Eve pays 20,000 USD into the insurance fund. Ferdie goes ~19x long BTC on USD alone; Dave ~19x
// on 100 USD and 800 DOT. The price server crashes BTC 6%: both are bankrupt. The validator's
// offchain worker submits an unsigned liquidation within a few blocks, closing both (Eve, about
// 4x, is left alone). Ferdie's debt is paid by the insurance fund at once; Dave's DOT goes to a
// Dutch auction, which Ferdie then takes as a keeper, and what the DOT did not raise is paid by
// the fund too. (Alice, Bob and Charlie are left out: their offchain workers sign feeds with
// their accounts, and a script's transaction would race the workers' for the same nonce.)
async function offchainLiquidation(api, server) {
  const keyring = new Keyring({ type: 'sr25519' });
  const [dave, eve, ferdie] = ['//Dave', '//Eve', '//Ferdie'].map((u) => keyring.addFromUri(u));
  await sendAndWait(api, api.tx.margin.deposit(USD, 20_000n * USD_UNIT), eve);
  await sendAndWait(api, api.tx.liquidation.fundInsurance(20_000n * USD_UNIT), eve);
  const fundBefore = (await api.call.liquidationApi.insuranceFund()).cash.toBigInt();
  if (fundBefore !== 20_000n * USD_UNIT) fail(`insurance fund holds ${fundBefore} after Eve paid 20,000 USD in`);

  await sendAndWait(api, api.tx.margin.deposit(USD, 10_000n * USD_UNIT), ferdie);
  await sendAndWait(api, api.tx.margin.trade(BTC_PERP, 300_000_000n), ferdie);
  await sendAndWait(api, api.tx.margin.deposit(USD, 100n * USD_UNIT), dave);
  await sendAndWait(api, api.tx.margin.deposit(DOT, 800n * DOT_UNIT), dave);
  await sendAndWait(api, api.tx.margin.trade(BTC_PERP, 100_000_000n), dave);

  const seen = { liquidated: [], auctions: [], shortfalls: new Map(), taken: [] };
  const unsubscribe = await api.query.system.events((events) => {
    for (const { event } of events) {
      const { liquidation } = api.events;
      if (liquidation.Liquidated.is(event)) seen.liquidated.push(event.data.who.toString());
      if (liquidation.AuctionStarted.is(event)) seen.auctions.push(event.data);
      if (liquidation.ShortfallSettled.is(event)) {
        seen.shortfalls.set(event.data.who.toString(), event.data);
      }
    }
  });
  const started = Date.now();
  server.set(BTC, 5_800_000n); // -6%
  await waitForPrice(api, BTC, server.expected(BTC), 'the crashed BTC price');
  for (;;) {
    const open = await Promise.all(
      [ferdie, dave].map(async (t) => (await api.query.margin.accounts(t.address)).unwrapOr({ positions: [] }).positions.length),
    );
    if (open.every((n) => n === 0)) break;
    if (Date.now() - started > 90_000) fail(`Ferdie and Dave not liquidated within 90 s: ${open}`);
    await sleep(2_000);
  }
  const seconds = (Date.now() - started) / 1000;
  for (const who of [ferdie, dave]) {
    if (!seen.liquidated.includes(who.address)) fail(`no Liquidated event for ${who.address}: ${seen.liquidated}`);
  }
  if (seen.liquidated.includes(eve.address)) fail('Eve, above maintenance, was liquidated');
  const eveAfter = summary(await api.call.marginApi.account(eve.address));
  if (eveAfter.positions.length !== 2) fail('Eve lost a position');

  // The worker's extrinsic: unsigned, and decoded by polkadot.js like any other.
  const head = (await api.rpc.chain.getHeader()).number.toNumber();
  let found = false;
  for (let n = head; n > Math.max(0, head - 20) && !found; n--) {
    const block = await api.rpc.chain.getBlock(await api.rpc.chain.getBlockHash(n));
    for (const ex of block.block.extrinsics) {
      const { section, method } = ex.method;
      if (section === 'liquidation' && method === 'liquidate') {
        if (ex.isSigned) fail('a liquidation was signed');
        ex.method.toHuman();
        found = true;
      }
    }
  }
  if (!found) fail('no liquidation.liquidate extrinsic in the last 20 blocks');

  // Ferdie held no collateral but USD: his debt went to the insurance fund at once.
  const ferdieShortfall = seen.shortfalls.get(ferdie.address);
  if (!ferdieShortfall || ferdieShortfall.insurance.toBigInt() === 0n || ferdieShortfall.socialized.toBigInt() !== 0n) {
    fail(`Ferdie's shortfall not paid by the fund: ${ferdieShortfall ? JSON.stringify(ferdieShortfall.toHuman()) : 'none'}`);
  }

  // Dave's DOT is on auction; Ferdie, squared by the fund, takes it all at the current price.
  const auction = seen.auctions.find((a) => a.who.toString() === dave.address);
  if (!auction || auction.asset.toNumber() !== DOT || auction.lot.toBigInt() !== 800n * DOT_UNIT) {
    fail(`no auction of Dave's 800 DOT: ${JSON.stringify(seen.auctions.map((a) => a.toHuman()))}`);
  }
  const views = await api.call.liquidationApi.auctions();
  const view = views.find((v) => v.id.eq(auction.id));
  if (!view || view.needsRestart.isTrue) fail(`auction ${auction.id} not open: ${JSON.stringify(views.toHuman())}`);
  await sendAndWait(api, api.tx.margin.deposit(USD, 10_000n * USD_UNIT), ferdie);
  const { events } = await sendAndWait(api, api.tx.liquidation.take(auction.id, 800n * DOT_UNIT, view.price), ferdie);
  unsubscribe();
  for (const { event } of events) {
    if (api.events.liquidation.AuctionTaken.is(event)) seen.taken.push(event.data);
    if (api.events.liquidation.ShortfallSettled.is(event)) seen.shortfalls.set(event.data.who.toString(), event.data);
  }
  const take = seen.taken.find((t) => t.id.eq(auction.id));
  if (!take || take.taker.toString() !== ferdie.address) fail('no AuctionTaken event for Ferdie');
  // Collateral lives in the account record: (asset, amount) pairs.
  const ferdie_ = (await api.query.margin.accounts(ferdie.address)).unwrapOr({ collateral: [] });
  const held = ferdie_.collateral.find(([asset]) => asset.toNumber() === DOT);
  const ferdieDot = held ? held[1].toBigInt() : 0n;
  if (ferdieDot !== 800n * DOT_UNIT) fail(`Ferdie holds ${ferdieDot} DOT`);
  // 800 DOT at ~5.5 did not raise Dave's ~4,800 USD debt: the fund paid the rest.
  const daveShortfall = seen.shortfalls.get(dave.address);
  if (!daveShortfall || daveShortfall.insurance.toBigInt() === 0n) fail("Dave's unpaid tab not paid by the fund");
  const dave_ = await api.query.margin.accounts(dave.address);
  if (dave_.isSome && dave_.unwrap().cash.toBigInt() < 0n) fail('Dave still in debt');
  const fund = (await api.call.liquidationApi.insuranceFund()).cash.toBigInt();
  if (fund >= fundBefore) fail(`the insurance fund paid nothing: ${fund}`);
  // The fund paid every shortfall: nothing socialized, nothing to deleverage.
  const adl = await api.call.liquidationApi.deleveraging(10);
  if (adl.socializedLoss.toBigInt() !== 0n) fail(`socialized loss ${adl.socializedLoss}`);
  if (adl.threshold.toBigInt() !== 250_000n * USD_UNIT) fail(`ADL threshold ${adl.threshold}`);
  return {
    seconds,
    paid: take.paid.toBigInt(),
    price: take.price.toBigInt(),
    ferdie: ferdieShortfall.insurance.toBigInt(),
    dave: daveShortfall.insurance.toBigInt(),
    fund,
    ranked: adl.ranking.length,
  };
}

async function main() {
  const api = await ApiPromise.create({ provider: new WsProvider(endpoint), throwOnConnect: true });
  const chain = await api.rpc.system.chain();
  const version = api.runtimeVersion;
  console.log(`smoke: connected to ${chain}, ${version.specName} v${version.specVersion}`);

  const pallets = api.runtimeMetadata.asLatest.pallets.map((p) => p.name.toString());
  for (const needed of ['Oracle', 'Margin', 'Liquidation', 'Assets', 'Balances']) {
    if (!pallets.includes(needed)) fail(`metadata lacks pallet ${needed}`);
  }
  console.log(`smoke: metadata v${api.runtimeMetadata.version} with ${pallets.length} pallets decoded`);

  // scripts/e2e-dev.sh starts the node with `--price-sources FILE`: the list the offchain
  // worker reads is that file's, stored without any RPC call.
  if (process.env.PRICE_SOURCES_FILE) {
    const stored = await api.rpc.offchain.localStorageGet('PERSISTENT', hex('perp-oracle::sources'));
    const given = hex(fs.readFileSync(process.env.PRICE_SOURCES_FILE, 'utf8'));
    if (!stored.isSome || stored.unwrap().toHex() !== given) {
      fail(`offchain storage holds ${stored.toHuman()}, not the --price-sources file`);
    }
    console.log('smoke: the --price-sources file is the stored source list');
  }

  const finalized = await waitForFinalized(api, MIN_FINALIZED);
  const early = await decodeBlocks(api, 0, finalized);
  console.log(`smoke: decoded blocks 0..${finalized}: ${early.signed + early.unsigned} extrinsics, ${early.events} events`);

  const block = await transfer(api);
  console.log(`smoke: signed transfer included in ${block}`);

  const feeders = await feedAndReadPrices(api);
  console.log(`smoke: BTC fed by Alice, Bob and Charlie: Fresh at the median, from ${feeders} feeders, no fees`);

  await lyingFeederIsExcluded(api);
  console.log('smoke: a feeder 20% off the median was excluded; the price held');

  const waited = await priceTurnsStaleWithoutQuorum(api);
  console.log(`smoke: with two feeders silent, BTC turned Stale after ${waited.toFixed(0)} s`);

  const ocw = await offchainWorkersFeed(api);
  console.log(
    `smoke: offchain workers of Alice, Bob and Charlie fed ETH from the local price server ` +
      `(${ocw.first.toFixed(0)} s) and followed its move (${ocw.moved.toFixed(0)} s); failing sources skipped`,
  );

  const margin = await marginTrading(api, ocw.server);
  console.log(
    `smoke: Eve deposited USD and DOT, went long BTC and short ETH; after BTC fell 5% her equity ` +
      `is ${margin.equity} and her ETH liquidation price moved from ${margin.ethLiq} to ${margin.ethLiqAfter}; ` +
      `a withdrawal below initial margin was refused`,
  );

  const liq = await offchainLiquidation(api, ocw.server);
  console.log(
    `smoke: after a 6% BTC crash the offchain worker liquidated Ferdie and Dave (~19x) within ` +
      `${liq.seconds.toFixed(0)} s of the crash; Eve (~4x) was left alone; the insurance fund paid ` +
      `Ferdie's shortfall (${liq.ferdie}); Ferdie then took Dave's 800 DOT at ${liq.price} for ${liq.paid} ` +
      `and the fund paid the rest (${liq.dave}); the fund holds ${liq.fund}; nothing was socialized, ` +
      `so nothing to deleverage (${liq.ranked} positions in profit ranked)`,
  );

  // The compatibility check over the whole run. Alice signs root calls in it: the node's
  // offchain workers (which sign feeds with Alice's, Bob's and Charlie's keys) stop feeding
  // first, so that no nonce of hers is taken meanwhile; the last feeds keep BTC fresh.
  await api.rpc.offchain.localStorageSet('PERSISTENT', hex('perp-oracle::sources'), hex('[]'));
  const paused = (await api.rpc.chain.getHeader()).number.toNumber();
  while ((await api.rpc.chain.getHeader()).number.toNumber() < paused + 2) await sleep(1_000);
  const submitted = await submitEveryCall(api, new Keyring({ type: 'sr25519' }).addFromUri('//Eve'));
  await ocw.server.close();
  const head = (await api.rpc.chain.getHeader()).number.toNumber();
  const all = await decodeBlocks(api, 0, head);
  if (!all.calls.has('liquidation.liquidate')) fail('no unsigned liquidation among the decoded extrinsics');
  const storage = await readProjectStorage(api);
  const apis = await callProjectApis(api, new Keyring({ type: 'sr25519' }).addFromUri('//Eve').address);
  console.log(
    `smoke: compat: ${submitted.length} user-facing calls submitted through api.tx (${submitted.join(', ')}); ` +
      `decoded all ${all.blocks} blocks (${all.signed} signed, ${all.unsigned} unsigned extrinsics, ${all.events} events); ` +
      `read ${storage.items} storage items of the project pallets (${storage.entries} values); ${apis} runtime API calls`,
  );

  // The same blocks through @substrate/api-sidecar, on its own, older polkadot.js.
  const rest = await checkSidecar(api, endpoint, head);
  if (!rest.methods.has('liquidation.liquidate')) fail('sidecar decoded no unsigned liquidation');
  console.log(
    `smoke: sidecar: read all ${rest.blocks} blocks (${rest.extrinsics} extrinsics, ${rest.events} events, ` +
      `${rest.methods.size} kinds of call); ${rest.storage} storage items of the project pallets ` +
      `(${rest.values} values), ${rest.eventTypes} events, ${rest.errors} errors, ` +
      `${rest.dispatchables} dispatchables; /transaction/material`,
  );

  await api.disconnect();
  clearTimeout(timer);
  if (warnings.length > 0) fail(`polkadot.js warned:\n${warnings.join('\n')}`);
  console.log('smoke: 1 passed, 0 failed');
}

main().catch((error) => fail(error.stack ?? String(error)));
