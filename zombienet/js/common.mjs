// What the end-to-end scripts share: the chain's constants, failing with a message, catching
// polkadot.js warnings, and sending a transaction until it is in a block.

export const USD = 1;
export const BTC = 2;
export const ETH = 3;
export const DOT = 4;
export const BTC_PERP = 0;
export const ETH_PERP = 1;
export const UNIT = 10n ** 18n; // FixedU128
export const USD_UNIT = 10n ** 6n;
export const DOT_UNIT = 10n ** 10n;
export const PERP = 10n ** 12n;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const hex = (bytes) => `0x${Buffer.from(bytes).toString('hex')}`;

export class Failure extends Error {}

// The oracle's view of `asset` (price, status, index, volatility, feeders) from `OracleApi`.
export async function priceView(api, asset) {
  return (await api.call.oracleApi.prices()).find((v) => v.asset.toNumber() === asset);
}

// polkadot.js reports unknown types and extensions through console warnings; any of them is a
// compatibility failure. The one notice allowed lists node RPC methods this api version has no
// decoration for (newer RPCs such as chainHead_v1_*); it says nothing about decoding. Lines
// starting with one of `ownPrefixes` are the scripts' own.
export function catchWarnings(ownPrefixes) {
  const allowed = [/API\/INIT: RPC methods not decorated:/];
  const warnings = [];
  for (const level of ['warn', 'error']) {
    const original = console[level];
    console[level] = (...args) => {
      const line = args.map(String).join(' ');
      if (!ownPrefixes.some((p) => line.startsWith(p)) && !allowed.some((re) => re.test(line))) warnings.push(line);
      original(...args);
    };
  }
  return warnings;
}

// `section.name` of a dispatch error.
export function errorName(api, dispatchError) {
  if (!dispatchError.isModule) return dispatchError.toString();
  const { section, name } = api.registry.findMetaError(dispatchError.asModule);
  return `${section}.${name}`;
}

// Sends `tx` signed by `signer` with the default signed extensions; resolves with
// `{ events, blockHash }` once it is in a block, rejects if it failed.
export function sendAndWait(api, tx, signer) {
  return new Promise((resolve, reject) => {
    tx.signAndSend(signer, ({ status, events, dispatchError }) => {
      if (dispatchError) {
        reject(new Error(`${tx.method.section}.${tx.method.method} failed: ${errorName(api, dispatchError)}`));
      }
      if (status.isInBlock) resolve({ events, blockHash: status.asInBlock.toHex() });
    }).catch(reject);
  });
}
