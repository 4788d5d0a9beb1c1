// polkadot.js compatibility check, used by the dev-chain end-to-end test (smoke-dev.mjs) and the
// zombienet suite: decodes every block, extrinsic (signed and unsigned) and event of a run, reads
// every storage item of the project pallets, calls every method of the project runtime APIs
// through `api.call`, and submits every user-facing project call through `api.tx` with the
// default signed extensions. It throws on any decoding error; the caller fails on any warning
// polkadot.js printed (unknown types or signed extensions), see `catchWarnings`.
import { Keyring } from '@polkadot/api';
import { BTC, BTC_PERP, DOT, Failure, USD, USD_UNIT, errorName, priceView } from './common.mjs';

export const PROJECT_PALLETS = ['Oracle', 'Margin', 'Liquidation'];
export const PROJECT_APIS = ['OracleApi', 'MarginApi', 'LiquidationApi'];

export const lowerFirst = (s) => s.charAt(0).toLowerCase() + s.slice(1);
export const camel = (s) => s.replace(/_([a-z])/g, (_, c) => c.toUpperCase());

// Decodes blocks `from..=to`: every extrinsic's call and arguments through the metadata, the
// signature fields of signed ones, every event. Returns counts.
export async function decodeBlocks(api, from, to) {
  const counts = { blocks: 0, signed: 0, unsigned: 0, events: 0, calls: new Set() };
  for (let n = from; n <= to; n++) {
    const hash = await api.rpc.chain.getBlockHash(n);
    const block = await api.rpc.chain.getBlock(hash);
    for (const [i, ex] of block.block.extrinsics.entries()) {
      const { section, method } = api.registry.findMetaCall(ex.callIndex);
      if (!section || !method) throw new Failure(`block #${n} extrinsic ${i}: undecodable call`);
      ex.method.toHuman();
      if (ex.isSigned) {
        ex.signer.toString();
        ex.era.toHuman();
        ex.nonce.toNumber();
        ex.tip.toBigInt();
        counts.signed++;
      } else {
        counts.unsigned++;
      }
      counts.calls.add(`${section}.${method}`);
    }
    const events = await (await api.at(hash)).query.system.events();
    for (const { event } of events) {
      if (!api.registry.findMetaEvent(event.index)) throw new Failure(`block #${n}: undecodable event`);
      event.toHuman();
      counts.events++;
    }
    counts.blocks++;
  }
  return counts;
}

// Reads every storage item of the project pallets at the best block: plain values, and every
// entry of the maps. Returns the number of items and entries read.
export async function readProjectStorage(api) {
  const pallets = api.runtimeMetadata.asLatest.pallets.filter((p) => PROJECT_PALLETS.includes(p.name.toString()));
  let items = 0;
  let entries = 0;
  for (const pallet of pallets) {
    const section = lowerFirst(pallet.name.toString());
    for (const item of pallet.storage.unwrap().items) {
      const query = api.query[section][camel(lowerFirst(item.name.toString()))];
      if (!query) throw new Failure(`no api.query.${section} for ${item.name}`);
      if (item.type.isPlain) {
        (await query()).toHuman();
        entries++;
      } else {
        for (const [key, value] of await query.entries()) {
          key.args.map((a) => a.toHuman());
          value.toHuman();
          entries++;
        }
      }
      items++;
    }
  }
  return { items, entries };
}

// Calls every method of the project runtime APIs; arguments by parameter name.
export async function callProjectApis(api, who) {
  const samples = { who, asset: BTC, limit: 10 };
  let calls = 0;
  for (const runtimeApi of api.runtimeMetadata.asLatest.apis) {
    const name = runtimeApi.name.toString();
    if (!PROJECT_APIS.includes(name)) continue;
    for (const m of runtimeApi.methods) {
      const method = camel(m.name.toString());
      const fn = api.call[lowerFirst(name)]?.[method];
      if (!fn) throw new Failure(`no api.call.${lowerFirst(name)}.${method}`);
      const args = m.inputs.map((input) => {
        const arg = input.name.toString();
        if (!(arg in samples)) throw new Failure(`${name}.${method}: no sample for argument ${arg}`);
        return samples[arg];
      });
      (await fn(...args)).toHuman();
      calls++;
    }
  }
  if (calls === 0) throw new Failure('metadata lists no project runtime API');
  return calls;
}

// Submits every user-facing call of the project pallets and checks each is included and its
// outcome decodes. Alice signs the root calls (through `sudo.sudo`) and a feed: the caller makes
// sure no offchain worker signs with her account meanwhile (their nonces would collide); `trader` must hold a few PERP for fees and 100 USD. Returns the outcomes.
export async function submitEveryCall(api, trader) {
  const keyring = new Keyring({ type: 'sr25519' });
  const alice = keyring.addFromUri('//Alice');
  const dave = keyring.addFromUri('//Dave');
  const [oracleParams, auctionParams, markets, dot] = await Promise.all([
    api.call.oracleApi.params(),
    api.call.liquidationApi.auctionParams(),
    api.query.margin.markets.entries(),
    api.query.margin.collateralAssets(DOT),
  ]);
  const [[marketKey, market]] = markets.filter(([k]) => k.args[0].toNumber() === BTC_PERP);
  const btcPrice = (await priceView(api, BTC)).price.price.toBigInt();
  const sudo = (call) => api.tx.sudo.sudo(call);
  // [name, signer, tx, outcomes allowed]
  const plan = [
    ['oracle.feed', alice, api.tx.oracle.feed([[BTC, btcPrice]]), [null]],
    ['oracle.addFeeder', alice, sudo(api.tx.oracle.addFeeder(dave.address)), [null, 'oracle.AlreadyFeeder']],
    ['oracle.removeFeeder', alice, sudo(api.tx.oracle.removeFeeder(dave.address)), [null]],
    ['oracle.addAsset', alice, sudo(api.tx.oracle.addAsset(99)), [null]],
    ['oracle.removeAsset', alice, sudo(api.tx.oracle.removeAsset(99)), [null]],
    ['oracle.setParams', alice, sudo(api.tx.oracle.setParams(oracleParams)), [null]],
    ['oracle.resetBreaker', alice, sudo(api.tx.oracle.resetBreaker(BTC)), [null, 'oracle.NotFrozen']],
    ['margin.deposit', trader, api.tx.margin.deposit(USD, 100n * USD_UNIT), [null]],
    ['margin.withdraw', trader, api.tx.margin.withdraw(USD, 10n * USD_UNIT), [null]],
    // 0.001 BTC (about 65 USD): above the market's 10 USD minimum position.
    ['margin.trade', trader, api.tx.margin.trade(BTC_PERP, 100_000n), [null]],
    ['margin.refresh', trader, api.tx.margin.refresh(trader.address), [null, 'margin.NotCrossed']],
    ['margin.close', trader, api.tx.margin.close(BTC_PERP), [null]],
    ['margin.createMarket', alice, sudo(api.tx.margin.createMarket(market.unwrap())), [null, 'margin.TooManyMarkets']],
    ['margin.updateMarket', alice, sudo(api.tx.margin.updateMarket(marketKey.args[0], market.unwrap())), [null]],
    ['margin.setCollateral', alice, sudo(api.tx.margin.setCollateral(DOT, dot)), [null]],
    ['margin.fundVault', trader, api.tx.margin.fundVault(USD_UNIT), [null]],
    ['liquidation.fundInsurance', trader, api.tx.liquidation.fundInsurance(USD_UNIT), [null]],
    ['liquidation.liquidateAccount', trader, api.tx.liquidation.liquidateAccount(trader.address), ['liquidation.NotLiquidatable']],
    ['liquidation.take', trader, api.tx.liquidation.take(u32Max(), USD_UNIT, btcPrice), ['liquidation.UnknownAuction']],
    ['liquidation.restart', trader, api.tx.liquidation.restart(u32Max()), ['liquidation.UnknownAuction']],
    ['liquidation.setParams', alice, sudo(api.tx.liquidation.setParams(auctionParams)), [null]],
    ['liquidation.setBreaker', alice, sudo(api.tx.liquidation.setBreaker('NoAuctions')), [null]],
    ['liquidation.setBreaker', alice, sudo(api.tx.liquidation.setBreaker('Running')), [null]],
  ];
  // Each signer's calls go into the pool with consecutive nonces, so they are included in
  // order, in a block or two, without waiting for each.
  const results = await Promise.all(
    [alice, trader].map(async (signer) => {
      let nonce = (await api.rpc.system.accountNextIndex(signer.address)).toNumber();
      const included = plan
        .filter(([, who]) => who === signer)
        .map(
          ([name, , tx, allowed]) =>
            new Promise((resolve, reject) => {
              tx.signAndSend(signer, { nonce: nonce++ }, ({ status, events, dispatchError }) => {
                if (status.isInBlock) resolve({ name, tx, allowed, events, dispatchError });
                if (status.isInvalid || status.isDropped || status.isUsurped) {
                  reject(new Failure(`${name}: ${status.type}`));
                }
              }).catch((error) => reject(new Failure(`${name}: ${error.message}`)));
            }),
        );
      return Promise.all(included);
    }),
  );
  const outcomes = [];
  for (const { name, tx, allowed, events, dispatchError } of results.flat()) {
    let outcome = dispatchError ? errorName(api, dispatchError) : null;
    if (!dispatchError && tx.method.section === 'sudo') {
      const sudid = events.find(({ event }) => api.events.sudo.Sudid.is(event));
      if (!sudid) throw new Failure(`${name}: no Sudid event`);
      const result = sudid.event.data.sudoResult;
      outcome = result.isErr ? errorName(api, result.asErr) : null;
    }
    for (const { event } of events) event.toHuman();
    if (!allowed.includes(outcome)) {
      throw new Failure(`${name}: ${outcome ?? 'succeeded'}, expected ${allowed.map((a) => a ?? 'success')}`);
    }
    outcomes.push(`${name}: ${outcome ?? 'ok'}`);
  }
  return outcomes;
}

const u32Max = () => 4_294_967_295;
