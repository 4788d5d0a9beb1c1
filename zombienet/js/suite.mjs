// The steps of the zombienet tests (zombienet/*.zndsl call them through suite.cjs). One
// zombienet process runs one test file, and this module's state (connections, the price server,
// the traders) lives across the steps of that file.
//
// Steps: `feeds` starts a local price server and sets every validator up as an operator would
// (its feeder's `orcl` key by `author_insertKey`, the price sources in offchain storage), then
// waits for fresh prices from three offchain workers; `open` funds traders and opens their
// positions; `crash ASSET` moves a price 6% down on the server and checks the liquidations;
// `schedule-crash ASSET SECONDS` does the same later, while the next steps run; `after-fault`
// checks what happened while a validator was down; `outage` and `resume` stop and restart the
// price sources; `compat` runs the polkadot.js compatibility check over the whole run.
import http from 'node:http';
import { ApiPromise, Keyring, WsProvider } from '@polkadot/api';
import {
  BTC,
  BTC_PERP,
  DOT,
  ETH,
  ETH_PERP,
  Failure,
  PERP,
  USD,
  USD_UNIT,
  catchWarnings,
  hex,
  priceView,
  sendAndWait,
  sleep,
} from './common.mjs';
import { callProjectApis, decodeBlocks, readProjectStorage, submitEveryCall } from './compat.mjs';

const say = (message) => console.log(`suite: ${message}`);
const warnings = catchWarnings(['suite:']);
const keyring = new Keyring({ type: 'sr25519' });
const FEEDERS = { alice: '//Alice', bob: '//Bob', charlie: '//Charlie' };

const state = {
  apis: new Map(),
  server: null,
  traders: [], // { pair, market, risky }
  liquidated: new Map(), // address -> [block numbers]
  liquidateExtrinsics: 0,
  heads: [], // { at, best, finalized } of the first node, every block
  scheduled: null,
};

async function connect(uri) {
  if (!state.apis.has(uri)) {
    state.apis.set(uri, await ApiPromise.create({ provider: new WsProvider(uri), throwOnConnect: true, noInitWarn: true }));
  }
  return state.apis.get(uri);
}

const validators = (networkInfo) =>
  Object.entries(networkInfo.nodesByName).filter(([name]) => name in FEEDERS);

// The price server the validators' offchain workers read: one JSON document per asset (whatever
// the query string), in cents; `down` makes every request fail with a 500.
async function startPriceServer() {
  const cents = new Map([
    [BTC, 6_500_000n],
    [ETH, 300_000n],
    [DOT, 500n],
  ]);
  const names = new Map([
    [`/${BTC}`, BTC],
    [`/${ETH}`, ETH],
    [`/${DOT}`, DOT],
  ]);
  const server = {
    cents,
    down: false,
    http: http.createServer((req, res) => {
      const asset = names.get(req.url.split('?')[0]);
      if (server.down || asset === undefined) {
        res.writeHead(500).end('{"error": "down"}');
        return;
      }
      const c = cents.get(asset);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ price: `${c / 100n}.${(c % 100n).toString().padStart(2, '0')}` }));
    }),
    expected: (asset) => cents.get(asset) * 10n ** 16n,
  };
  await new Promise((resolve) => server.http.listen(0, '127.0.0.1', resolve));
  server.http.unref();
  server.url = `http://127.0.0.1:${server.http.address().port}`;
  return server;
}

// Waits until `asset` is Fresh at `expected`; returns the block that aggregated it.
async function waitForPrice(api, asset, expected, seconds) {
  const started = Date.now();
  for (;;) {
    const view = await priceView(api, asset);
    if (view && view.price.status.toString() === 'Fresh' && view.price.price.toBigInt() === expected) {
      const number = (await api.rpc.chain.getHeader()).number.toNumber();
      // The block that aggregated it: the first at or below the head whose aggregate has it.
      let first = number;
      while (first > 0) {
        const at = await api.at(await api.rpc.chain.getBlockHash(first - 1));
        const agg = await at.query.oracle.aggregates(asset);
        if (agg.isNone || agg.unwrap().price.toBigInt() !== expected) break;
        first--;
      }
      return { feeders: view.feeders.toNumber(), block: first };
    }
    if (Date.now() - started > seconds * 1000) {
      throw new Failure(`asset ${asset} not Fresh at ${expected} within ${seconds} s: ${view ? JSON.stringify(view.price.toHuman()) : 'none'}`);
    }
    await sleep(1_000);
  }
}

// Every validator gets its feeder key and the sources (three per asset: a node feeds an asset
// only on three or more agreeing sources): the operator's two RPC calls.
async function feeds(networkInfo) {
  state.server = await startPriceServer();
  const sources = [BTC, ETH, DOT].flatMap((asset) =>
    [1, 2, 3].map((i) => ({ asset, url: `${state.server.url}/${asset}?source=${i}`, path: 'price' })),
  );
  state.sources = sources;
  for (const [name, node] of validators(networkInfo)) {
    const api = await connect(node.wsUri);
    await api.rpc.author.insertKey('orcl', FEEDERS[name], hex(keyring.addFromUri(FEEDERS[name]).publicKey));
    await api.rpc.offchain.localStorageSet('PERSISTENT', hex('perp-oracle::sources'), hex(JSON.stringify(sources)));
  }
  const api = await first(networkInfo);
  watch(api);
  // The workers feed every other block, each on its own schedule: the first aggregate may come
  // from two of them; all three must be in one within a minute.
  for (const asset of [BTC, ETH, DOT]) {
    await waitForPrice(api, asset, state.server.expected(asset), 120);
    const deadline = Date.now() + 60_000;
    let feeders = 0;
    while ((feeders = (await priceView(api, asset)).feeders.toNumber()) !== 3) {
      if (Date.now() > deadline) throw new Failure(`asset ${asset} aggregated from ${feeders} feeders, expected 3`);
      await sleep(2_000);
    }
  }
  say('three validators feed BTC, ETH and DOT from the price server');
}

async function first(networkInfo) {
  const [, node] = validators(networkInfo)[0];
  return connect(node.wsUri);
}

// Records every block's liquidations and the first node's best and finalized heights.
function watch(api) {
  if (state.watching) return;
  state.watching = true;
  api.rpc.chain.subscribeFinalizedHeads((h) => {
    state.finalized = h.number.toNumber();
  });
  api.rpc.chain.subscribeNewHeads(async (header) => {
    const number = header.number.toNumber();
    state.heads.push({ at: Date.now(), best: number, finalized: state.finalized ?? 0 });
    const at = await api.at(header.hash);
    const [events, block] = await Promise.all([at.query.system.events(), api.rpc.chain.getBlock(header.hash)]);
    for (const { event } of events) {
      if (api.events.liquidation.Liquidated.is(event)) {
        const who = event.data.who.toString();
        state.liquidated.set(who, [...(state.liquidated.get(who) ?? []), number]);
      }
    }
    state.liquidateExtrinsics += block.block.extrinsics.filter(
      (ex) => ex.method.section === 'liquidation' && ex.method.method === 'liquidate',
    ).length;
  });
}

// Traders, funded by Ferdie: per market, 4 at 15x (below maintenance after a 6% fall) and 2 at
// 4x (not); Eve pays 20,000 USD into the insurance fund for the shortfalls.
async function open(networkInfo) {
  const api = await first(networkInfo);
  const ferdie = keyring.addFromUri('//Ferdie');
  const eve = keyring.addFromUri('//Eve');
  const plan = [];
  for (const market of [BTC_PERP, ETH_PERP]) {
    for (const leverage of [15n, 15n, 15n, 15n, 4n, 4n]) plan.push({ market, leverage });
  }
  const run = Date.now() % 1_000_000;
  state.traders = plan.map((p, i) => ({ ...p, risky: p.leverage > 10n, pair: keyring.addFromUri(`//Trader${run}/${i}`) }));
  const funding = state.traders.flatMap(({ pair }) => [
    api.tx.balances.transferKeepAlive(pair.address, 10n * PERP),
    api.tx.assets.transferKeepAlive(USD, pair.address, 1_000n * USD_UNIT),
  ]);
  await sendAndWait(api, api.tx.utility.batchAll(funding), ferdie);
  await sendAndWait(api, api.tx.utility.batchAll([
    api.tx.margin.deposit(USD, 20_000n * USD_UNIT),
    api.tx.liquidation.fundInsurance(20_000n * USD_UNIT),
  ]), eve);
  const prices = { [BTC_PERP]: state.server.cents.get(BTC), [ETH_PERP]: state.server.cents.get(ETH) };
  const units = { [BTC_PERP]: 10n ** 8n, [ETH_PERP]: 10n ** 18n };
  await Promise.all(
    state.traders.map(({ pair, market, leverage }) => {
      const size = (1_000n * leverage * 100n * units[market]) / prices[market];
      return sendAndWait(api, api.tx.utility.batchAll([
        api.tx.margin.deposit(USD, 1_000n * USD_UNIT),
        api.tx.margin.trade(market, size),
      ]), pair);
    }),
  );
  for (const { pair } of state.traders) {
    const account = await api.call.marginApi.account(pair.address);
    if (account.isNone || account.unwrap().state.toString() !== 'Healthy') {
      throw new Failure(`trader ${pair.address} not Healthy after opening: ${JSON.stringify(account.toHuman())}`);
    }
  }
  say(`${state.traders.length} traders opened BTC and ETH positions at 15x and 4x`);
}

const ASSETS = { BTC, ETH };
const MARKET_OF = { [BTC]: BTC_PERP, [ETH]: ETH_PERP };

// Moves `asset` 6% down on the server; once the chain aggregates it (block C), the risky traders
// of its market must be liquidated in block C+1, the block after they crossed maintenance, each
// exactly once, and no one else.
async function crash(networkInfo, assetName) {
  const api = await first(networkInfo);
  const asset = ASSETS[assetName];
  state.server.cents.set(asset, (state.server.cents.get(asset) * 94n) / 100n);
  const { block } = await waitForPrice(api, asset, state.server.expected(asset), 120);
  const market = MARKET_OF[asset];
  const risky = state.traders.filter((t) => t.market === market && t.risky).map((t) => t.pair.address);
  const deadline = Date.now() + 60_000;
  while (!risky.every((who) => state.liquidated.has(who))) {
    if (Date.now() > deadline) throw new Failure(`${assetName} crash at #${block}: not all liquidated within 60 s`);
    await sleep(1_000);
  }
  for (const who of risky) {
    const blocks = state.liquidated.get(who);
    if (blocks.length !== 1) throw new Failure(`${who} liquidated ${blocks.length} times (#${blocks})`);
    if (blocks[0] > block + 1) throw new Failure(`${who} liquidated in #${blocks[0]}, crash aggregated in #${block}: it waited more than one block`);
  }
  for (const t of state.traders.filter((t) => !t.risky)) {
    if (state.liquidated.has(t.pair.address)) throw new Failure(`${t.pair.address} at 4x was liquidated`);
  }
  const blocks = risky.map((who) => state.liquidated.get(who)[0]);
  say(`${assetName} -6% aggregated in #${block}: ${risky.length} accounts liquidated once each in #${Math.min(...blocks)}..#${Math.max(...blocks)}; the 4x traders kept their positions`);
  return block;
}

// Crashes `asset` after `seconds`, in the background, while the following steps run.
async function scheduleCrash(networkInfo, assetName, seconds) {
  // A validator is about to be killed: the steps that follow talk to the first one only, and
  // a connection to a killed node would only log reconnection errors.
  const firstUri = validators(networkInfo)[0][1].wsUri;
  for (const [uri, api] of state.apis) {
    if (uri === firstUri) continue;
    await api.disconnect();
    state.apis.delete(uri);
  }
  state.faultStarted = Date.now();
  state.scheduled = sleep(seconds * 1000).then(() => crash(networkInfo, assetName).then((block) => ({ block, at: Date.now() })));
  state.scheduled.catch(() => {});
  say(`${assetName} will fall 6% in ${seconds} s`);
}

// Waits until the node at `uri` answers a plain HTTP JSON-RPC request (no websocket, so no
// reconnection noise from polkadot.js while it starts).
async function waitForRpc(uri, seconds) {
  const url = uri.replace(/^ws/, 'http');
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    try {
      const reply = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'system_health', params: [] }),
      });
      if (reply.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Failure(`${uri} did not answer within ${seconds} s`);
    await sleep(1_000);
  }
}

// After a validator was killed and restarted: the scheduled crash was liquidated in time by the
// others, they kept producing and finalizing while it was down, and it caught up.
async function afterFault(networkInfo, name) {
  const { block, at } = await state.scheduled;
  const downFrom = state.faultStarted;
  const restartedAt = Date.now();
  if (at > restartedAt) throw new Failure(`the crash in #${block} was liquidated only after ${name} came back`);
  const during = state.heads.filter((h) => h.at > downFrom + 5_000 && h.at < restartedAt - 5_000);
  if (during.length < 3) throw new Failure(`only ${during.length} blocks while ${name} was down`);
  const finalizedGain = during[during.length - 1].finalized - during[0].finalized;
  if (finalizedGain < 2) throw new Failure(`finality advanced by ${finalizedGain} while ${name} was down`);
  const api = await first(networkInfo);
  const uri = networkInfo.nodesByName[name].wsUri;
  await waitForRpc(uri, 60);
  const restarted = await connect(uri);
  const deadline = Date.now() + 120_000;
  for (;;) {
    const [head, theirs, theirFinal] = await Promise.all([
      api.rpc.chain.getHeader(),
      restarted.rpc.chain.getHeader(),
      restarted.rpc.chain.getFinalizedHead().then((h) => restarted.rpc.chain.getHeader(h)),
    ]);
    if (theirs.number.toNumber() >= head.number.toNumber() - 1 && theirFinal.number.toNumber() > block) break;
    if (Date.now() > deadline) throw new Failure(`${name} did not catch up: #${theirs.number} vs #${head.number}`);
    await sleep(2_000);
  }
  say(
    `while ${name} was down: ${during.length} blocks, finality +${finalizedGain}, the crash in #${block} liquidated by the others; ` +
      `${name} caught up and finalizes past #${block}`,
  );
}

// The sources fail: the price turns Stale after its max age; the server's price falls 6%
// meanwhile; no liquidation happens on the stale price.
async function outage(networkInfo) {
  const api = await first(networkInfo);
  state.server.down = true;
  state.server.cents.set(BTC, (state.server.cents.get(BTC) * 94n) / 100n);
  const started = Date.now();
  const maxAge = (await api.call.oracleApi.params()).maxAge.toNumber();
  while ((await priceView(api, BTC)).price.status.toString() !== 'Stale') {
    if (Date.now() - started > maxAge + 60_000) throw new Failure('BTC not Stale after the feeds stopped');
    await sleep(2_000);
  }
  const staleAt = (await api.rpc.chain.getHeader()).number.toNumber();
  const staleAfter = (Date.now() - started) / 1000;
  const before = state.liquidated.size;
  // Six more blocks on the stale price.
  while ((await api.rpc.chain.getHeader()).number.toNumber() < staleAt + 6) await sleep(1_000);
  if (state.liquidated.size !== before) throw new Failure('an account was liquidated on a stale price');
  const candidates = await api.call.liquidationApi.candidates(100);
  if (candidates.length !== 0) throw new Failure(`${candidates.length} candidates on a stale price`);
  const risky = state.traders.find((t) => t.market === BTC_PERP && t.risky);
  const summary = (await api.call.marginApi.account(risky.pair.address)).unwrap();
  if (summary.pricesFresh.isTrue) throw new Failure('MarginApi says the prices are fresh');
  say(`feeds stopped: BTC Stale at #${staleAt}, ${staleAfter.toFixed(0)} s after (max age ${maxAge / 1000} s); no liquidation in the 6 blocks since`);
}

async function resume(networkInfo) {
  state.server.down = false;
  // The risky BTC traders are below maintenance at the price the server now serves.
  const api = await first(networkInfo);
  const { block } = await waitForPrice(api, BTC, state.server.expected(BTC), 120);
  const risky = state.traders.filter((t) => t.market === BTC_PERP && t.risky).map((t) => t.pair.address);
  const deadline = Date.now() + 60_000;
  while (!risky.every((who) => state.liquidated.has(who))) {
    if (Date.now() > deadline) throw new Failure('not liquidated after the feeds resumed');
    await sleep(1_000);
  }
  const last = Math.max(...risky.map((who) => state.liquidated.get(who)[0]));
  if (last > block + 1) throw new Failure(`liquidated in #${last}, fresh price in #${block}: more than one block after`);
  say(`feeds resumed: BTC Fresh again in #${block}; ${risky.length} accounts liquidated by #${last}`);
}

// The polkadot.js compatibility check over the whole run, on the first validator; with
// `calls`, every user-facing project call is submitted too.
async function compat(networkInfo, withCalls) {
  const api = await first(networkInfo);
  let submitted = [];
  if (withCalls) {
    // Alice signs the root calls: her validator stops feeding meanwhile (Bob's and Charlie's
    // feeds keep the prices fresh), so that her offchain worker's feeds take no nonce of hers.
    const setSources = (list) => api.rpc.offchain.localStorageSet('PERSISTENT', hex('perp-oracle::sources'), hex(JSON.stringify(list)));
    await setSources([]);
    const from = (await api.rpc.chain.getHeader()).number.toNumber();
    while ((await api.rpc.chain.getHeader()).number.toNumber() < from + 2) await sleep(1_000);
    submitted = await submitEveryCall(api, keyring.addFromUri('//Eve'));
    await setSources(state.sources);
  }
  const head = (await api.rpc.chain.getHeader()).number.toNumber();
  const counts = await decodeBlocks(api, 0, head);
  const storage = await readProjectStorage(api);
  const apis = await callProjectApis(api, keyring.addFromUri('//Eve').address);
  if (warnings.length > 0) throw new Failure(`polkadot.js warned:\n${warnings.join('\n')}`);
  say(
    `compat: decoded ${counts.blocks} blocks (${counts.signed} signed, ${counts.unsigned} unsigned extrinsics, ` +
      `${counts.events} events, calls ${[...counts.calls].sort().join(' ')}); read ${storage.items} storage items ` +
      `(${storage.entries} values); ${apis} runtime API calls; ${submitted.length} calls submitted (${submitted.join(', ')})`,
  );
  if (state.traders.length > 0 && !counts.calls.has('liquidation.liquidate')) {
    throw new Failure('no unsigned liquidation among the decoded extrinsics');
  }
}

export async function step(args, networkInfo) {
  const [name, ...rest] = args;
  switch (name) {
    case 'feeds':
      return feeds(networkInfo);
    case 'open':
      return open(networkInfo);
    case 'crash':
      return crash(networkInfo, rest[0]);
    case 'schedule-crash':
      return scheduleCrash(networkInfo, rest[0], Number(rest[1]));
    case 'after-fault':
      return afterFault(networkInfo, rest[0]);
    case 'outage':
      return outage(networkInfo);
    case 'resume':
      return resume(networkInfo);
    case 'compat':
      return compat(networkInfo, rest[0] === 'calls');
    default:
      throw new Failure(`unknown step ${name}`);
  }
}
