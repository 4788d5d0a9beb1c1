// A liquidation cascade on the running dev chain, narrated (scripts/demo.sh runs it):
// Alice, Bob and Charlie feed prices; six traders open BTC longs from 3x to 19x; BTC then falls
// 3%, 6% and 9%, and the node's offchain worker liquidates each trader as the price passes
// below their maintenance margin. Every step prints what the chain did. Safe to run again: each
// run uses new traders.
//
// Usage: node demo.mjs [ws://127.0.0.1:9944]
import { ApiPromise, Keyring, WsProvider } from '@polkadot/api';
import { BTC, BTC_PERP, PERP, UNIT, USD, USD_UNIT, priceView, sendAndWait } from './common.mjs';

const endpoint = process.argv[2] ?? 'ws://127.0.0.1:9944';
const keyring = new Keyring({ type: 'sr25519' });
const usd = (v) => `${(Number(v) / 1e6).toLocaleString('en-US', { maximumFractionDigits: 2 })} USD`;
const price = (v) => `${(Number(v / 10n ** 14n) / 1e4).toLocaleString('en-US')} USD`;

async function feed(api, usdPrice) {
  const feeders = ['//Alice', '//Bob', '//Charlie'].map((u) => keyring.addFromUri(u));
  const results = await Promise.all(feeders.map((f) => sendAndWait(api, api.tx.oracle.feed([[BTC, usdPrice * UNIT]]), f)));
  const view = await priceView(api, BTC);
  console.log(`\n== Alice, Bob and Charlie feed BTC at ${usdPrice.toLocaleString('en-US')} USD: the oracle says ${price(view.price.price.toBigInt())}, ${view.price.status} (in ${results[2].blockHash.slice(0, 10)}…)`);
}

async function show(api, traders) {
  for (const t of traders) {
    const account = await api.call.marginApi.account(t.pair.address);
    if (account.isNone) {
      console.log(`   ${t.name.padEnd(8)} no margin account left`);
      continue;
    }
    const a = account.unwrap();
    const position = a.positions[0];
    const liq = position?.liquidationPrice.isSome ? price(position.liquidationPrice.unwrap().toBigInt()) : '-';
    console.log(
      `   ${t.name.padEnd(8)} ${String(t.leverage).padStart(2)}x  equity ${usd(a.equity.toBigInt()).padStart(14)}  ` +
        `maintenance ${usd(a.maintenance.toBigInt()).padStart(12)}  ${String(a.state).padEnd(12)} ` +
        `${position ? `liquidation price ${liq}` : 'no position'}`,
    );
  }
}

// Prints the liquidation events of the next `blocks` blocks.
async function narrate(api, blocks) {
  let seen = 0;
  await new Promise((resolve) => {
    let unsubscribe;
    api.rpc.chain
      .subscribeNewHeads(async (header) => {
        const events = await (await api.at(header.hash)).query.system.events();
        for (const { event } of events) {
          if (event.section !== 'liquidation') continue;
          const data = event.data.toHuman();
          console.log(`   #${header.number} liquidation.${event.method} ${JSON.stringify(data)}`);
        }
        if (++seen >= blocks) {
          unsubscribe();
          resolve();
        }
      })
      .then((u) => {
        unsubscribe = u;
      });
  });
}

async function main() {
  const api = await ApiPromise.create({ provider: new WsProvider(endpoint), noInitWarn: true });
  console.log(`Connected to ${await api.rpc.system.chain()} at ${endpoint}. Watch along in polkadot.js apps:`);
  console.log(`https://polkadot.js.org/apps/?rpc=${encodeURIComponent(endpoint)}#/explorer (Network → Explorer)`);

  await feed(api, 65_000n);

  const run = Date.now() % 100_000;
  const traders = [3, 8, 12, 15, 18, 19].map((leverage, i) => ({
    leverage,
    name: `trader${i + 1}`,
    pair: keyring.addFromUri(`//Demo${run}/${i}`),
  }));
  const ferdie = keyring.addFromUri('//Ferdie');
  const eve = keyring.addFromUri('//Eve');
  console.log('\n== Ferdie funds six traders with 1,000 USD each; Eve pays 20,000 USD into the insurance fund');
  await Promise.all([
    sendAndWait(
      api,
      api.tx.utility.batchAll(
        traders.flatMap(({ pair }) => [
          api.tx.balances.transferKeepAlive(pair.address, 10n * PERP),
          api.tx.assets.transferKeepAlive(USD, pair.address, 1_000n * USD_UNIT),
        ]),
      ),
      ferdie,
    ),
    sendAndWait(
      api,
      api.tx.utility.batchAll([
        api.tx.margin.deposit(USD, 20_000n * USD_UNIT),
        api.tx.liquidation.fundInsurance(20_000n * USD_UNIT),
      ]),
      eve,
    ),
  ]);

  console.log('\n== Each deposits 1,000 USD and goes long BTC-PERP with leverage');
  await Promise.all(
    traders.map(({ pair, leverage }) =>
      sendAndWait(
        api,
        api.tx.utility.batchAll([
          api.tx.margin.deposit(USD, 1_000n * USD_UNIT),
          api.tx.margin.trade(BTC_PERP, (1_000n * BigInt(leverage) * 100_000_000n) / 65_000n),
        ]),
        pair,
      ),
    ),
  );
  for (const t of traders) console.log(`   ${t.name} is ${t.pair.address}`);
  await show(api, traders);

  for (const level of [63_050n, 61_100n, 59_150n]) {
    await feed(api, level);
    console.log('   the offchain worker re-checks the accounts whose safe band the price left; the next blocks:');
    await narrate(api, 3);
    await show(api, traders);
  }

  const fund = await api.call.liquidationApi.insuranceFund();
  const auctions = await api.call.liquidationApi.auctions();
  console.log(`\n== Insurance fund: ${usd(fund.cash.toBigInt())}; open auctions: ${auctions.length}`);
  console.log('In polkadot.js apps, Developer → Runtime calls → liquidationApi.path(<address>) shows an account\'s path,');
  console.log('marginApi.account(<address>) its health, and Network → Explorer the events above.');
  await api.disconnect();
}

main().catch((error) => {
  console.error(`demo: ${error.stack ?? error}`);
  process.exit(1);
});
