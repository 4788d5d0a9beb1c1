// End-to-end smoke test of a running dev node through @polkadot/api:
// waits for finality, decodes the metadata and every block and its events so far, then submits
// one signed transfer and checks it is included and succeeded.
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

  await api.disconnect();
  clearTimeout(timer);
  if (warnings.length > 0) fail(`polkadot.js warned:\n${warnings.join('\n')}`);
  console.log('smoke: 1 passed, 0 failed');
}

main().catch((error) => fail(error.stack ?? String(error)));
