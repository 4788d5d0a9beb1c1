// End-to-end smoke test of a running dev node through @polkadot/api:
// waits for finality, decodes the metadata and every block and its events so far, submits one
// signed transfer and checks it is included and succeeded, then has the three dev feeders feed a
// price and reads the aggregate back through the OracleApi runtime API.
//
// Usage: node smoke-dev.mjs ws://127.0.0.1:PORT
import { ApiPromise, Keyring, WsProvider } from '@polkadot/api';

const endpoint = process.argv[2] ?? 'ws://127.0.0.1:9944';
const MIN_FINALIZED = 3;
const DEADLINE_MS = 300_000;

function fail(message) {
  console.error(`smoke: FAIL: ${message}`);
  process.exit(1);
}

// polkadot.js reports unknown types and extensions through console warnings; any of them is a
// compatibility failure. The one notice allowed lists node RPC methods that this api version has
// no decoration for (newer RPCs such as chainHead_v1_*); it says nothing about decoding.
const ALLOWED_NOTICES = [/API\/INIT: RPC methods not decorated:/];
const warnings = [];
for (const level of ['warn', 'error']) {
  const original = console[level];
  console[level] = (...args) => {
    const line = args.map(String).join(' ');
    const allowed = line.startsWith('smoke:') || ALLOWED_NOTICES.some((re) => re.test(line));
    if (!allowed) warnings.push(line);
    original(...args);
  };
}

const timer = setTimeout(() => fail(`not done within ${DEADLINE_MS / 1000} s`), DEADLINE_MS);

async function waitForFinalized(api, height) {
  return new Promise((resolve, reject) => {
    api.rpc.chain
      .subscribeFinalizedHeads((header) => {
        const n = header.number.toNumber();
        console.log(`smoke: finalized #${n}`);
        if (n >= height) resolve(n);
      })
      .catch(reject);
  });
}

async function decodeAllBlocks(api, upTo) {
  let extrinsics = 0;
  let events = 0;
  for (let n = 0; n <= upTo; n++) {
    const hash = await api.rpc.chain.getBlockHash(n);
    const block = await api.rpc.chain.getBlock(hash);
    for (const ex of block.block.extrinsics) {
      // Decoding the call and its arguments through the metadata fails on an unknown type.
      const { section, method } = api.registry.findMetaCall(ex.callIndex);
      ex.method.toHuman();
      if (!section || !method) fail(`block #${n}: undecodable call`);
      extrinsics++;
    }
    const at = await api.at(hash);
    const blockEvents = await at.query.system.events();
    for (const record of blockEvents) {
      record.event.toHuman();
      events++;
    }
  }
  return { extrinsics, events };
}

async function transfer(api) {
  const keyring = new Keyring({ type: 'sr25519' });
  const alice = keyring.addFromUri('//Alice');
  const bob = keyring.addFromUri('//Bob');
  const amount = 1_000_000_000_000n;
  const before = (await api.query.system.account(bob.address)).data.free.toBigInt();

  const included = await new Promise((resolve, reject) => {
    api.tx.balances
      .transferKeepAlive(bob.address, amount)
      .signAndSend(alice, ({ status, events, dispatchError }) => {
        if (dispatchError) reject(new Error(`transfer failed: ${dispatchError.toString()}`));
        if (status.isInBlock) {
          const ok = events.some(({ event }) => api.events.system.ExtrinsicSuccess.is(event));
          if (!ok) reject(new Error('transfer included without ExtrinsicSuccess'));
          resolve(status.asInBlock.toHex());
        }
      })
      .catch(reject);
  });
  const after = (await api.query.system.account(bob.address)).data.free.toBigInt();
  if (after - before !== amount) fail(`Bob's balance moved by ${after - before}, not ${amount}`);
  return included;
}

// Sends `tx` signed by `signer` and resolves with the events once it is in a block.
function sendAndWait(api, tx, signer) {
  return new Promise((resolve, reject) => {
    tx.signAndSend(signer, ({ status, events, dispatchError }) => {
      if (dispatchError) reject(new Error(`${tx.method.section}.${tx.method.method} failed: ${dispatchError.toString()}`));
      if (status.isInBlock) resolve(events);
    }).catch(reject);
  });
}

const BTC = 2;
const UNIT = 10n ** 18n; // FixedU128

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
  const aggregated = results.flat().filter(({ event }) => api.events.oracle.PriceAggregated.is(event));
  if (aggregated.length === 0) fail('no PriceAggregated event after three feeds');

  // Accepted feeds pay no fee.
  for (const [i, f] of feeders.entries()) {
    const after = (await api.query.system.account(f.address)).data.free.toBigInt();
    if (after !== before[i]) fail(`feeder ${i} paid ${before[i] - after} for an accepted feed`);
  }

  const views = await api.call.oracleApi.prices();
  const btc = views.find((v) => v.asset.toNumber() === BTC);
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

  const finalized = await waitForFinalized(api, MIN_FINALIZED);
  const { extrinsics, events } = await decodeAllBlocks(api, finalized);
  console.log(`smoke: decoded blocks 0..${finalized}: ${extrinsics} extrinsics, ${events} events`);

  const block = await transfer(api);
  console.log(`smoke: signed transfer included in ${block}`);

  const feeders = await feedAndReadPrices(api);
  console.log(`smoke: BTC fed by Alice, Bob and Charlie: Fresh at the median, from ${feeders} feeders, no fees`);

  await api.disconnect();
  clearTimeout(timer);
  if (warnings.length > 0) fail(`polkadot.js warned:\n${warnings.join('\n')}`);
  console.log('smoke: 1 passed, 0 failed');
}

main().catch((error) => fail(error.stack ?? String(error)));
