//! Runs actions on a [`Chain`] and checks the invariants (see `invariants`) after each one,
//! keeping the counts a campaign reports.

use crate::{
	action::Action,
	actors,
	chain::{self, Chain},
	invariants::{self, Books, Violation},
};
use perpchain_runtime::{
	AccountId, Runtime, RuntimeCall, RuntimeEvent, RuntimeOrigin, UncheckedExtrinsic,
};
use sp_runtime::{generic::Preamble, DispatchError};
use std::collections::{BTreeMap, BTreeSet};

type LiquidationEvent = pallet_liquidation::Event<Runtime>;

/// What a campaign counts.
#[derive(Clone, Debug, Default)]
pub struct Stats {
	/// Calls run: signed and bare actions, and the worker's transactions.
	pub calls: u64,
	/// Blocks finished.
	pub blocks: u64,
	/// Transactions the offchain worker submitted, those the pool refused, and those applied.
	pub worker_submitted: u64,
	pub worker_refused: u64,
	pub worker_applied: u64,
	/// Bare extrinsics from outside, and those the pool refused.
	pub forged: u64,
	pub forged_refused: u64,
	/// Accounts liquidated, split by full and partial.
	pub liquidations: u64,
	pub full_liquidations: u64,
	/// Auctions started, taken, restarted, ended and retired; shortfalls settled; ADL closes.
	pub auctions_started: u64,
	pub auctions_taken: u64,
	pub auctions_restarted: u64,
	pub auctions_ended: u64,
	pub auctions_retired: u64,
	pub shortfalls: u64,
	pub deleveraged: u64,
	/// Blocks opened congested.
	pub congested: u64,
	/// Calls that succeeded.
	pub ok: u64,
	/// Failures by kind (a pallet's error, a dispatch error, or the transaction's invalidity).
	pub errors: BTreeMap<String, u64>,
	/// Invariant checks made, by invariant.
	pub checks: BTreeMap<&'static str, u64>,
}

impl Stats {
	fn checked(&mut self, names: &[&'static str]) {
		for name in names {
			*self.checks.entry(name).or_default() += 1;
		}
	}

	fn error(&mut self, kind: String) {
		*self.errors.entry(kind).or_default() += 1;
	}

	/// Adds another campaign's counts.
	pub fn add(&mut self, other: &Stats) {
		self.calls += other.calls;
		self.blocks += other.blocks;
		self.worker_submitted += other.worker_submitted;
		self.worker_refused += other.worker_refused;
		self.worker_applied += other.worker_applied;
		self.forged += other.forged;
		self.forged_refused += other.forged_refused;
		self.liquidations += other.liquidations;
		self.full_liquidations += other.full_liquidations;
		self.auctions_started += other.auctions_started;
		self.auctions_taken += other.auctions_taken;
		self.auctions_restarted += other.auctions_restarted;
		self.auctions_ended += other.auctions_ended;
		self.auctions_retired += other.auctions_retired;
		self.shortfalls += other.shortfalls;
		self.deleveraged += other.deleveraged;
		self.congested += other.congested;
		self.ok += other.ok;
		for (kind, n) in &other.errors {
			*self.errors.entry(kind.clone()).or_default() += n;
		}
		for (name, n) in &other.checks {
			*self.checks.entry(name).or_default() += n;
		}
	}

	fn count_events(&mut self, events: &[RuntimeEvent]) {
		for event in events {
			let RuntimeEvent::Liquidation(event) = event else { continue };
			match event {
				LiquidationEvent::Liquidated { full, .. } => {
					self.liquidations += 1;
					self.full_liquidations += u64::from(*full);
				},
				LiquidationEvent::AuctionStarted { .. } => self.auctions_started += 1,
				LiquidationEvent::AuctionTaken { .. } => self.auctions_taken += 1,
				LiquidationEvent::AuctionRestarted { .. } => self.auctions_restarted += 1,
				LiquidationEvent::AuctionEnded { .. } => self.auctions_ended += 1,
				LiquidationEvent::AuctionRetired { .. } => self.auctions_retired += 1,
				LiquidationEvent::ShortfallSettled { .. } => self.shortfalls += 1,
				LiquidationEvent::Deleveraged { .. } => self.deleveraged += 1,
				_ => {},
			}
		}
	}
}

/// The invariants checked after every call.
const PER_CALL: [&str; 12] = [
	"conservation",
	"adl-order",
	"minimum-sizes",
	"auction-min-lot",
	"operational-space",
	"feed-room",
	"no-trace-on-error",
	"declared-weight",
	"healthy-liquidated",
	"discovery",
	"caps-and-funds",
	"auction-restarts",
];

/// A chain with its invariant state and counts.
pub struct Runner {
	pub chain: Chain,
	pub stats: Stats,
	restarts: BTreeMap<pallet_liquidation::AuctionId, u32>,
	/// Every account that has existed: the ones whose balances the books add up.
	accounts: BTreeSet<AccountId>,
}

impl Runner {
	/// A runner on a new development chain.
	pub fn new() -> Result<Runner, String> {
		let mut chain = Chain::new()?;
		// The vault starts with the auto-deleveraging threshold's worth of losses absorbed
		// (a state a chain reaches after 250,000 USD of bad debt), so that the first loss it
		// absorbs here is deleveraged: campaigns reach ADL without a crash of that size.
		chain.execute(|| {
			pallet_liquidation::SocializedLoss::<Runtime>::put(
				perpchain_runtime::configs::liquidation::ADL_THRESHOLD,
			)
		});
		let accounts = chain.execute(invariants::accounts);
		Ok(Runner { chain, stats: Stats::default(), restarts: BTreeMap::new(), accounts })
	}

	/// Runs one action and checks the invariants after it.
	pub fn run(&mut self, action: &Action) -> Result<(), Violation> {
		match action {
			Action::NextBlock { advance_ms, worker, congestion } => {
				self.next_block(*advance_ms, *worker, *congestion)
			},
			Action::Signed { signer, call } => {
				let origin = RuntimeOrigin::signed(actors::account(*signer));
				let xt = self.chain.execute(|| chain::signed(*signer, call.clone()));
				self.call(origin, call, xt)
			},
			Action::Bare { call } => {
				let xt = chain::bare(call.clone());
				self.stats.forged += 1;
				if self.chain.pool_verdict(&xt).is_err() {
					self.stats.forged_refused += 1;
				}
				self.call(RuntimeOrigin::none(), call, xt)
			},
		}
	}

	fn next_block(
		&mut self,
		advance_ms: u64,
		worker: bool,
		congestion: u16,
	) -> Result<(), Violation> {
		self.chain.execute(invariants::supplies)?;
		let (submitted, refused) = self
			.chain
			.next_block(advance_ms.max(perpchain_runtime::SLOT_DURATION), worker)
			.map_err(|detail| Violation { invariant: "try-state", detail })?;
		if let Some(due) = self.chain.adl_missed.take() {
			return Err(Violation {
				invariant: "adl-liveness",
				detail: format!("the worker submitted no deleverage: {due}"),
			});
		}
		if congestion > 0 {
			self.chain.execute(|| chain::congest(congestion));
			self.stats.congested += 1;
		}
		self.stats.checked(&["supplies", "try-state", "adl-liveness"]);
		self.stats.blocks += 1;
		self.stats.worker_submitted += u64::from(submitted);
		self.stats.worker_refused += u64::from(refused);
		// What the worker submitted and the pool accepted goes first into the new block.
		for xt in self.chain.take_pending() {
			let call = xt.function.clone();
			let origin = match &xt.preamble {
				Preamble::Bare(_) => RuntimeOrigin::none(),
				_ => continue,
			};
			self.stats.worker_applied += 1;
			self.call(origin, &call, xt)?;
		}
		Ok(())
	}

	/// Probes `call`, applies `xt` (the same call as an extrinsic) and checks everything.
	fn call(
		&mut self,
		origin: RuntimeOrigin,
		call: &RuntimeCall,
		xt: UncheckedExtrinsic,
	) -> Result<(), Violation> {
		let block = self.chain.number;
		self.stats.calls += 1;
		let accounts = &mut self.accounts;
		let (applied, outcome) = self.chain.execute(|| {
			let before = Books::read(accounts);
			let admission = invariants::Admission::before(&origin, call);
			let profits = invariants::Profits::before(call);
			let probe = chain::probe(origin, call);
			invariants::probe_checks(&probe)?;
			invariants::were_liquidatable(&invariants::liquidated(call, &probe.events))?;
			let applied = chain::apply(xt);
			admission.check(&applied.result)?;
			invariants::track_accounts(accounts, &applied.events);
			let after = Books::read(accounts);
			invariants::conservation(&before, &after, &applied.events)?;
			invariants::discovery()?;
			invariants::caps(block)?;
			invariants::auction_lots(&applied.events)?;
			invariants::minimum_sizes(&applied.events)?;
			invariants::adl_order(&profits, &applied.events)?;
			Ok::<_, Violation>((applied.result, applied.events))
		})?;
		invariants::restarts(&mut self.restarts, &outcome)?;
		self.stats.checked(&PER_CALL);
		self.stats.count_events(&outcome);
		match applied {
			Err(invalid) => self.stats.error(format!("invalid: {invalid:?}")),
			Ok(Err(error)) => self.stats.error(error_kind(&error)),
			Ok(Ok(())) => match inner_failure(&outcome) {
				Some(kind) => self.stats.error(kind),
				None => self.stats.ok += 1,
			},
		}
		Ok(())
	}
}

/// A dispatch error by pallet and name.
pub fn error_kind(error: &DispatchError) -> String {
	match error {
		DispatchError::Module(module) => {
			format!("{}.{}", pallet_name(module.index), module.message.unwrap_or("?"))
		},
		other => format!("{other:?}"),
	}
}

/// The failure a successful wrapper call (`sudo`, a batch) reports in its events.
fn inner_failure(events: &[RuntimeEvent]) -> Option<String> {
	events.iter().find_map(|event| match event {
		RuntimeEvent::Sudo(pallet_sudo::Event::Sudid { sudo_result: Err(e) })
		| RuntimeEvent::Sudo(pallet_sudo::Event::SudoAsDone { sudo_result: Err(e) }) => {
			Some(format!("sudo: {}", error_kind(e)))
		},
		RuntimeEvent::Utility(pallet_utility::Event::BatchInterrupted { error, .. }) => {
			Some(format!("batch: {}", error_kind(error)))
		},
		_ => None,
	})
}

/// The runtime's pallets by index (`runtime/src/lib.rs`).
fn pallet_name(index: u8) -> &'static str {
	match index {
		0 => "System",
		1 => "Timestamp",
		2 => "Aura",
		3 => "Grandpa",
		4 => "Balances",
		5 => "TransactionPayment",
		6 => "Sudo",
		7 => "Assets",
		8 => "Utility",
		20 => "Oracle",
		21 => "Margin",
		22 => "Liquidation",
		_ => "?",
	}
}
