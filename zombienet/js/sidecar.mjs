// The REST service exchanges and custodians read a chain through, `@substrate/api-sidecar`
// (pinned in package.json; it brings its own, older @polkadot/api), against a running node:
// starts it on a free port, fetches every block `0..=head` with its extrinsics and events, the
// three project pallets' storage items (each plain value, and each map's first entry, whose keys
// are taken from the node through `api`), events, errors and dispatchables, and
// `/transaction/material`. Any error response fails the check, with the path and sidecar's
// message. Returns counts, and the `pallet.method` of every extrinsic sidecar decoded.
//
// Usage (from a test that has a connected `api`):
//   const counts = await checkSidecar(api, 'ws://127.0.0.1:9944', head);
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import net from 'node:net';
import { Failure, sleep } from './common.mjs';
import { PROJECT_PALLETS, camel, lowerFirst } from './compat.mjs';

const require = createRequire(import.meta.url);
const SIDECAR = require.resolve('@substrate/api-sidecar/build/src/main.js');
const START_DEADLINE_MS = 120_000;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// Starts sidecar on `endpoint`; resolves once it answers. Returns { base, stop, output }.
async function startSidecar(endpoint) {
  const port = await freePort();
  const output = [];
  const child = spawn(process.execPath, [SIDECAR], {
    env: {
      ...process.env,
      SAS_SUBSTRATE_URL: endpoint,
      SAS_EXPRESS_BIND_HOST: '127.0.0.1',
      SAS_EXPRESS_PORT: String(port),
      SAS_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let exited = null;
  child.on('exit', (code, signal) => {
    exited = signal ?? code;
  });
  for (const stream of [child.stdout, child.stderr]) stream.on('data', (d) => output.push(d.toString()));
  const stop = () => {
    if (exited === null) child.kill('SIGTERM');
  };
  const base = `http://127.0.0.1:${port}`;
  const start = Date.now();
  for (;;) {
    if (exited !== null) throw new Failure(`sidecar exited (${exited}) before it answered:\n${output.join('')}`);
    if (Date.now() - start > START_DEADLINE_MS) {
      stop();
      throw new Failure(`sidecar did not answer within ${START_DEADLINE_MS / 1000} s:\n${output.join('')}`);
    }
    try {
      const res = await fetch(`${base}/node/version`);
      if (res.ok) return { base, stop, output };
    } catch {
      // Not listening yet.
    }
    await sleep(500);
  }
}

// GET `path`; throws on an error response, with sidecar's message.
async function get(base, path) {
  const res = await fetch(`${base}${path}`);
  const text = await res.text();
  if (!res.ok) throw new Failure(`sidecar ${path}: ${res.status} ${text.slice(0, 500)}`);
  return JSON.parse(text);
}

// A storage key argument as sidecar parses it: numbers and account ids as strings, anything
// composite as its JSON.
function keyArg(arg) {
  const human = arg.toJSON();
  return typeof human === 'object' && human !== null ? JSON.stringify(human) : String(human);
}

export async function checkSidecar(api, endpoint, head) {
  const sidecar = await startSidecar(endpoint);
  const counts = {
    blocks: 0,
    extrinsics: 0,
    events: 0,
    methods: new Set(),
    storage: 0,
    values: 0,
    eventTypes: 0,
    errors: 0,
    dispatchables: 0,
  };
  try {
    for (let n = 0; n <= head; n++) {
      const block = await get(sidecar.base, `/blocks/${n}`);
      if (Number(block.number) !== n) throw new Failure(`sidecar /blocks/${n} answered block ${block.number}`);
      counts.blocks++;
      counts.extrinsics += block.extrinsics.length;
      counts.events += block.onInitialize.events.length + block.onFinalize.events.length;
      for (const ex of block.extrinsics) {
        counts.events += ex.events.length;
        counts.methods.add(`${ex.method.pallet}.${ex.method.method}`);
      }
    }
    for (const pallet of PROJECT_PALLETS) {
      const id = lowerFirst(pallet);
      const storage = await get(sidecar.base, `/pallets/${id}/storage`);
      for (const item of storage.items) {
        const name = item.name;
        const path = `/pallets/${id}/storage/${lowerFirst(name)}`;
        const meta = api.runtimeMetadata.asLatest.pallets
          .find((p) => p.name.toString() === pallet)
          .storage.unwrap()
          .items.find((i) => i.name.toString() === name);
        if (meta.type.isPlain) {
          await get(sidecar.base, `${path}?metadata=true`);
          counts.values++;
        } else {
          // The first entry the node has, asked for by its keys.
          const [entry] = await api.query[id][camel(lowerFirst(name))].entriesPaged({ args: [], pageSize: 1 });
          if (entry) {
            const query = entry[0].args.map((arg) => `keys[]=${encodeURIComponent(keyArg(arg))}`).join('&');
            const answer = await get(sidecar.base, `${path}?${query}&metadata=true`);
            // (A unit value, as a set's entries have, is null in both.)
            const none = (value) => value === null || value === undefined;
            if (none(answer.value) !== none(entry[1].toJSON())) {
              throw new Failure(`sidecar ${path}: ${JSON.stringify(answer.value)} for an entry the node has as ${entry[1].toString()}`);
            }
            counts.values++;
          }
        }
        counts.storage++;
      }
      for (const [kind, key] of [['events', 'eventTypes'], ['errors', 'errors'], ['dispatchables', 'dispatchables']]) {
        const list = await get(sidecar.base, `/pallets/${id}/${kind}?onlyIds=true`);
        for (const itemId of list.items) {
          await get(sidecar.base, `/pallets/${id}/${kind}/${itemId}`);
          counts[key]++;
        }
      }
    }
    const material = await get(sidecar.base, '/transaction/material');
    if (!material.genesisHash || !material.specVersion) throw new Failure('sidecar /transaction/material: no genesis hash or spec version');
  } finally {
    sidecar.stop();
  }
  return counts;
}
