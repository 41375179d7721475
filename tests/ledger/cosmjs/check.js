// Reads a running communs ledger node with CosmJS's CometBFT 0.38 client and prints what it
// decoded as one JSON line: node check.js <rpc url> <key=value tx to submit> <hex hash of a
// committed tx to look up>.
"use strict";
const { Comet38Client, connectComet } = require("@cosmjs/tendermint-rpc");
const { toHex, toUtf8, fromUtf8 } = require("@cosmjs/encoding");

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const hex = (bytes) => toHex(bytes).toUpperCase();

async function main() {
  const [url, txText, earlierHash] = process.argv.slice(2);
  const client = await connectComet(url); // picks its decoder from node_info.version
  const status = await client.status();
  const sync = await client.broadcastTxSync({ tx: toUtf8(txText) });
  let found = null;
  for (let i = 0; i < 100 && found === null; i++) {
    try {
      found = await client.tx({ hash: sync.hash });
    } catch (e) {
      if (!String(e).includes("not found")) throw e;
      await sleep(100);
    }
  }
  if (found === null) throw new Error("the transaction was not committed within 10 s");
  const height = found.height;
  const block = await client.block(height);
  const results = await client.blockResults(height);
  const commit = await client.commit(height);
  const validators = await client.validators({ height });
  const search = await client.txSearch({ query: `tx.height=${height}` });
  const key = txText.split("=")[0];
  const query = await client.abciQuery({ path: "/key", data: toUtf8(key) });
  const info = await client.abciInfo();
  const earlier = await client.tx({ hash: Buffer.from(earlierHash, "hex") });
  const unconfirmed = await client.numUnconfirmedTxs();
  client.disconnect();
  // Over CometBFT's /websocket: the next new block, as a subscription event.
  const ws = await Comet38Client.connect(url.replace(/^http/, "ws"));
  const next = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no NewBlock event within 10 s")), 10000);
    const sub = ws.subscribeNewBlock().subscribe({
      next: (b) => { clearTimeout(timer); sub.unsubscribe(); resolve(b); },
      error: (e) => { clearTimeout(timer); reject(e); },
    });
  });
  ws.disconnect();
  console.log(JSON.stringify({
    client: client.constructor.name,
    status: {
      network: status.nodeInfo.network, version: status.nodeInfo.version,
      height: status.syncInfo.latestBlockHeight, hash: hex(status.syncInfo.latestBlockHash),
      validator: hex(status.validatorInfo.address),
    },
    broadcast: { code: sync.code, hash: hex(sync.hash) },
    tx: { hash: hex(found.hash), height: found.height, index: found.index,
          code: found.result.code, tx: fromUtf8(found.tx) },
    block: { id: hex(block.blockId.hash), height: block.block.header.height,
             time: block.block.header.time.toISOString(),
             appHash: hex(block.block.header.appHash),
             lastBlockId: block.block.header.lastBlockId ? hex(block.block.header.lastBlockId.hash) : null,
             txs: block.block.txs.map((t) => fromUtf8(t)),
             lastCommitHeight: block.block.lastCommit ? block.block.lastCommit.height : null },
    results: { height: results.height, codes: results.results.map((r) => r.code) },
    commit: { height: commit.header.height, blockId: hex(commit.commit.blockId.hash),
              canonical: commit.canonical, signatures: commit.commit.signatures.length },
    validators: { total: validators.total, addresses: validators.validators.map((v) => hex(v.address)),
                  power: validators.validators.map((v) => Number(v.votingPower)) },
    search: { total: search.totalCount, hashes: search.txs.map((t) => hex(t.hash)) },
    query: { code: query.code, value: fromUtf8(query.value), height: query.height },
    abciInfo: { lastBlockHeight: info.lastBlockHeight },
    unconfirmed: { total: unconfirmed.total },
    newBlock: { height: next.header.height, chainId: next.header.chainId },
    earlier: { hash: hex(earlier.hash), height: earlier.height, tx: fromUtf8(earlier.tx) },
  }));
}

main().then(() => process.exit(0)).catch((e) => {
  console.error(String(e && e.stack ? e.stack : e));
  process.exit(1);
});
