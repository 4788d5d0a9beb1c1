//! The real runtime, natively, as a node drives it: blocks initialized with an Aura slot and the
//! timestamp inherent, extrinsics applied through `Executive`, blocks finalized, and the
//! validators' offchain worker run on each finished block with its submissions validated by
//! the pool's entry point (`validate_transaction`) before they go into the next block.

use crate::actors;
use codec::{Decode, Encode};
use frame_support::{
	dispatch::{DispatchResultWithPostInfo, GetDispatchInfo, PostDispatchInfo},
	storage::{with_transaction, TransactionOutcome},
	traits::TryState,
	weights::Weight,
};
use perpchain_runtime::{
	AllPalletsWithSystem, BlockNumber, Executive, Hash, Header, Runtime, RuntimeCall, RuntimeEvent,
	RuntimeOrigin, SignedPayload, System, TxExtension, UncheckedExtrinsic, SLOT_DURATION,
};
use sp_consensus_aura::{Slot, AURA_ENGINE_ID};
use sp_core::{
	offchain::{
		testing::{PoolState, TestOffchainExt, TestTransactionPoolExt},
		OffchainDbExt, OffchainWorkerExt, Timestamp, TransactionPoolExt,
	},
	Pair,
};
use sp_io::TestExternalities;
use sp_runtime::{
	generic::{Digest, DigestItem, Era},
	traits::{Dispatchable, Header as _},
	transaction_validity::{TransactionSource, TransactionValidity},
	ApplyExtrinsicResult, DispatchError, MultiAddress, MultiSignature, StateVersion,
};
use std::sync::Arc;

/// The first block's timestamp (ms since the Unix epoch): 2025-10-10 00:00 UTC.
pub const GENESIS_TIME: u64 = 1_760_054_400_000;

/// What dispatching a call on a throwaway copy of the state showed.
pub struct Probe {
	/// The call's result, with the weight it reports.
	pub result: DispatchResultWithPostInfo,
	/// The weight the call declares before it runs.
	pub declared: Weight,
	/// The events the call emitted.
	pub events: Vec<RuntimeEvent>,
	/// For a failed call: whether the storage root after it differs from the one before.
	pub left_a_trace: bool,
}

/// What applying an extrinsic in the block did.
pub struct Applied {
	pub result: ApplyExtrinsicResult,
	/// The events the extrinsic emitted (`System` ones included).
	pub events: Vec<RuntimeEvent>,
}

/// A chain on the development preset, one block open at a time.
pub struct Chain {
	ext: TestExternalities,
	pool: Arc<parking_lot::RwLock<PoolState>>,
	offchain: Arc<parking_lot::RwLock<sp_core::offchain::testing::OffchainState>>,
	/// The block being built.
	pub number: BlockNumber,
	/// Its timestamp (ms).
	pub now: u64,
	parent: Hash,
	/// The worker's transactions that the pool accepted, for the next block.
	pending: Vec<UncheckedExtrinsic>,
	/// Set by `next_block` when auto-deleveraging was due and its worker submitted none that
	/// the pool accepted: what was due.
	pub adl_missed: Option<String>,
	/// Whether `next_block` runs every pallet's `try_state` on each finished block (the
	/// default); the simulator turns it off and checks at its own pace (`try_state`).
	pub check_blocks: bool,
}

/// A state's keys with their values, in key order.
pub type StatePairs = Vec<(Vec<u8>, Vec<u8>)>;

impl Chain {
	/// A new chain on the development preset, with block 1 open.
	pub fn new() -> Result<Chain, String> {
		let storage = perpchain_runtime::genesis_config_presets::preset_storage(
			&sp_genesis_builder::DEV_RUNTIME_PRESET.into(),
		)?;
		let mut ext = TestExternalities::new(storage);
		let (offchain, offchain_state) = TestOffchainExt::new();
		ext.register_extension(OffchainDbExt::new(offchain.clone()));
		ext.register_extension(OffchainWorkerExt::new(offchain));
		let (pool, pool_state) = TestTransactionPoolExt::new();
		ext.register_extension(TransactionPoolExt::new(pool));
		let parent = ext.execute_with(|| System::block_hash(0));
		let mut chain = Chain {
			ext,
			pool: pool_state,
			offchain: offchain_state,
			number: 1,
			now: GENESIS_TIME,
			parent,
			pending: Vec::new(),
			adl_missed: None,
			check_blocks: true,
		};
		chain.start_block()?;
		Ok(chain)
	}

	/// Runs `f` on the chain's state.
	pub fn execute<R>(&mut self, f: impl FnOnce() -> R) -> R {
		self.ext.execute_with(f)
	}

	/// Opens block `number`: its Aura slot from the time, then the timestamp inherent.
	fn start_block(&mut self) -> Result<(), String> {
		let (number, parent, now) = (self.number, self.parent, self.now);
		self.ext.execute_with(|| {
			let slot = Slot::from(now / SLOT_DURATION);
			let digest =
				Digest { logs: vec![DigestItem::PreRuntime(AURA_ENGINE_ID, slot.encode())] };
			let header =
				Header::new(number, Default::default(), Default::default(), parent, digest);
			Executive::initialize_block(&header);
			let inherent =
				UncheckedExtrinsic::new_bare(RuntimeCall::Timestamp(pallet_timestamp::Call::set {
					now,
				}));
			match Executive::apply_extrinsic(inherent) {
				Ok(Ok(())) => Ok(()),
				other => Err(format!("the timestamp inherent failed: {other:?}")),
			}
		})
	}

	/// The worker's accepted transactions for the block just opened; taken once.
	pub fn take_pending(&mut self) -> Vec<UncheckedExtrinsic> {
		std::mem::take(&mut self.pending)
	}

	/// Finalizes the open block and checks every pallet's `try_state`; with `worker`, runs
	/// the offchain worker on it and keeps what the pool accepts. Then opens the next block
	/// `advance_ms` later. Returns how many transactions the worker submitted and how many
	/// of them the pool refused, or the `try_state` failure.
	pub fn next_block(&mut self, advance_ms: u64, worker: bool) -> Result<(u32, u32), String> {
		let header = self.ext.execute_with(Executive::finalize_block);
		if self.check_blocks {
			self.try_state()?;
		}
		let (mut submitted, mut refused) = (0, 0);
		if worker {
			self.offchain.write().timestamp = Timestamp::from_unix_millis(self.now);
			let hash = header.hash();
			let due = self.ext.execute_with(adl_due);
			let pending = self.ext.execute_with(|| {
				// A worker's state changes are thrown away; what it submits stays in the pool.
				rolled_back(|| Executive::offchain_worker(&header));
				let raw = std::mem::take(&mut self.pool.write().transactions);
				let mut accepted = Vec::new();
				for bytes in raw {
					submitted += 1;
					let Ok(xt) = UncheckedExtrinsic::decode(&mut &bytes[..]) else {
						refused += 1;
						continue;
					};
					match rolled_back(|| {
						Executive::validate_transaction(TransactionSource::Local, xt.clone(), hash)
					}) {
						Ok(_) => accepted.push(xt),
						Err(_) => refused += 1,
					}
				}
				accepted
			});
			let deleverages = pending.iter().any(|xt| {
				matches!(
					xt.function,
					RuntimeCall::Liquidation(pallet_liquidation::Call::deleverage { .. })
				)
			});
			self.adl_missed = due.filter(|_| !deleverages);
			self.pending = pending;
		}
		self.parent = header.hash();
		self.number += 1;
		self.now += advance_ms;
		self.ext.commit_all()?;
		self.start_block()?;
		Ok((submitted, refused))
	}

	/// Finalizes the open block and returns the state it leaves, every key with its value in
	/// key order: what a node's database holds after that block (`benchmarks/storage.sh` turns
	/// it into a chain's genesis), less the block's events, which the next block clears and
	/// which after a setup of thousands of calls make one value no real block holds.
	pub fn finish(mut self) -> Result<StatePairs, String> {
		self.ext.execute_with(|| {
			Executive::finalize_block();
			System::reset_events();
		});
		self.ext.commit_all()?;
		Ok(self.ext.execute_with(|| {
			let mut pairs = Vec::new();
			let mut key = Vec::new();
			while let Some(next) = sp_io::storage::next_key(&key) {
				if let Some(value) = sp_io::storage::get(&next) {
					pairs.push((next.clone(), value.to_vec()));
				}
				key = next;
			}
			pairs
		}))
	}

	/// Every pallet's `try_state` on the state now (`AllPalletsWithSystem`, `Select::All`);
	/// the error names the failing pallet and its message.
	pub fn try_state(&mut self) -> Result<(), String> {
		let number = self.number;
		let state = self.ext.execute_with(|| AllPalletsWithSystem::try_state(number, select_all()));
		if state.is_err() {
			let which = self.ext.execute_with(|| failing_try_state(number));
			return Err(format!("try_state after block {number}: {which}"));
		}
		Ok(())
	}

	/// Writes `value` at `key` in the worker's persistent offchain storage, as the node's own
	/// state (a lock a stuck run left behind, a cursor).
	pub fn set_offchain(&mut self, key: &[u8], value: &[u8]) {
		use sp_core::offchain::OffchainStorage;
		self.offchain.write().persistent_storage.set(b"", key, value);
	}

	/// The pool's verdict on a bare extrinsic from the network, on the state of the block
	/// being built.
	pub fn pool_verdict(&mut self, xt: &UncheckedExtrinsic) -> TransactionValidity {
		let parent = self.parent;
		self.ext.execute_with(|| {
			rolled_back(|| {
				Executive::validate_transaction(TransactionSource::External, xt.clone(), parent)
			})
		})
	}
}

/// Whether auto-deleveraging is due, as the worker should see it after a block: an excess to
/// recover, the breaker running, and one of the first `MaxBatch` positions in deleveraging
/// order that may be deleveraged. Says what is due.
fn adl_due() -> Option<String> {
	use frame_support::traits::Get;
	type Liquidation = pallet_liquidation::Pallet<Runtime>;
	let excess = Liquidation::adl_excess();
	let running =
		pallet_liquidation::Breaker::<Runtime>::get() == pallet_liquidation::BreakerLevel::Running;
	if excess == 0 || !running {
		return None;
	}
	let batch: u32 = <Runtime as pallet_liquidation::Config>::MaxBatch::get();
	let first = Liquidation::adl_ranking(batch).into_iter().next()?;
	Some(format!("{excess} to recover, {} in market {} may give it", first.who, first.market))
}

/// Which pallet's `try_state` fails, and its message (`AllPalletsWithSystem` only logs them).
fn failing_try_state(number: BlockNumber) -> String {
	use perpchain_runtime::*;
	fn check<P: TryState<BlockNumber>>(name: &str, n: BlockNumber) -> Option<String> {
		P::try_state(n, select_all()).err().map(|e| format!("{name}: {e:?}"))
	}
	[
		check::<System>("System", number),
		check::<Timestamp>("Timestamp", number),
		check::<Aura>("Aura", number),
		check::<Grandpa>("Grandpa", number),
		check::<Balances>("Balances", number),
		check::<TransactionPayment>("TransactionPayment", number),
		check::<Sudo>("Sudo", number),
		check::<Assets>("Assets", number),
		check::<Utility>("Utility", number),
		check::<Oracle>("Oracle", number),
		check::<Margin>("Margin", number),
		check::<Liquidation>("Liquidation", number),
	]
	.into_iter()
	.flatten()
	.collect::<Vec<_>>()
	.join("; ")
}

/// `Select::All`, named once.
fn select_all() -> frame_support::traits::TryStateSelect {
	frame_support::traits::TryStateSelect::All
}

/// Runs `f` and throws its storage changes away.
pub fn rolled_back<R>(f: impl FnOnce() -> R) -> R {
	let mut out = None;
	let _ = with_transaction(|| -> TransactionOutcome<Result<(), DispatchError>> {
		out = Some(f());
		TransactionOutcome::Rollback(Ok(()))
	});
	out.expect("the closure ran")
}

/// The state's storage root now.
pub fn storage_root() -> Vec<u8> {
	sp_io::storage::root(StateVersion::V1)
}

/// The events emitted since the first `from` of the block.
pub fn events_since(from: usize) -> Vec<RuntimeEvent> {
	System::read_events_no_consensus()
		.skip(from)
		.map(|record| record.event)
		.collect()
}

/// How many events the block holds so far: the length prefix of `System::Events`, read
/// without the events themselves.
pub fn event_count() -> usize {
	use codec::Compact;
	let key = frame_support::storage::storage_prefix(b"System", b"Events");
	let mut prefix = [0u8; 5];
	match sp_io::storage::read(&key, &mut prefix, 0) {
		Some(_) => Compact::<u32>::decode(&mut &prefix[..]).map_or(0, |n| n.0 as usize),
		None => 0,
	}
}

/// Dispatches `call` from `origin` on a throwaway copy of the state: what it reports and
/// emits, and for a failure whether it changed the storage. The state is left as it was.
pub fn probe(origin: RuntimeOrigin, call: &RuntimeCall) -> Probe {
	let declared = call.get_dispatch_info().call_weight;
	let from = event_count();
	let (result, events, root_after) = rolled_back(|| {
		let result = call.clone().dispatch(origin);
		let root = result.is_err().then(storage_root);
		(result, events_since(from), root)
	});
	// The root before, taken inside a throwaway layer as the one after was: the layer itself
	// is in the state (`:transaction_level:`).
	let left_a_trace = root_after.is_some_and(|after| after != rolled_back(storage_root));
	Probe { result, declared, events, left_a_trace }
}

/// The weight a call's result reports (its declared weight when it reports none).
pub fn reported_weight(result: &DispatchResultWithPostInfo) -> Option<Weight> {
	let post: &PostDispatchInfo = match result {
		Ok(post) => post,
		Err(e) => &e.post_info,
	};
	post.actual_weight
}

/// Makes the block being built look congested when its liquidations arrive: the normal class
/// full, and `permille` of what liquidations may fill of the operational class
/// (`reserved_share`) taken, as earlier batches would have taken it.
pub fn congest(permille: u16) {
	use frame_support::dispatch::DispatchClass;
	use sp_runtime::Perbill;
	let limits = perpchain_runtime::configs::RuntimeBlockWeights::get();
	let normal = limits.get(DispatchClass::Normal).max_total.unwrap_or(limits.max_block);
	let share = pallet_liquidation::Pallet::<Runtime>::reserved_share();
	let taken = Perbill::from_perthousand(u32::from(permille.min(1_000)));
	let taken = Weight::from_parts(taken * share.ref_time(), taken * share.proof_size());
	frame_system::BlockWeight::<Runtime>::mutate(|weight| {
		weight.set(normal, DispatchClass::Normal);
		weight.set(taken, DispatchClass::Operational);
	});
}

/// Applies `xt` in the block being built.
pub fn apply(xt: UncheckedExtrinsic) -> Applied {
	let from = event_count();
	let result = Executive::apply_extrinsic(xt);
	Applied { result, events: events_since(from) }
}

/// `call` signed by signer `signer` with the extensions a wallet uses: immortal, its next
/// nonce, no tip.
pub fn signed(signer: u8, call: RuntimeCall) -> UncheckedExtrinsic {
	let who = actors::account(signer);
	let nonce = System::account_nonce(&who);
	let extension: TxExtension = (
		frame_system::CheckNonZeroSender::<Runtime>::new(),
		frame_system::CheckSpecVersion::<Runtime>::new(),
		frame_system::CheckTxVersion::<Runtime>::new(),
		frame_system::CheckGenesis::<Runtime>::new(),
		frame_system::CheckEra::<Runtime>::from(Era::Immortal),
		frame_system::CheckNonce::<Runtime>::from(nonce),
		frame_system::CheckWeight::<Runtime>::new(),
		perpchain_runtime::priority::ChargeFeeWithPriority::from_tip(0),
	);
	// The implicit data (spec version, genesis hash) is read from the state; it cannot fail.
	let payload = SignedPayload::new(call, extension).expect("implicit data is available");
	let signature = payload.using_encoded(|bytes| actors::pair(signer).sign(bytes));
	let (call, extension, _) = payload.deconstruct();
	UncheckedExtrinsic::new_signed(
		call,
		MultiAddress::Id(who),
		MultiSignature::Sr25519(signature),
		extension,
	)
}

/// `call` as a bare extrinsic, in the format the offchain workers use (v4).
pub fn bare(call: RuntimeCall) -> UncheckedExtrinsic {
	UncheckedExtrinsic::new_bare_legacy(call)
}
