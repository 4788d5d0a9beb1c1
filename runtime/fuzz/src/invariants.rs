//! The whole-system invariants, checked by the campaign after every call and every block.
//!
//! After every call:
//! - **conservation**: the native token's accounts add up to its issuance and each
//!   `pallet-assets` asset's accounts to its supply; margin's books (per asset: every account's
//!   USD cash, the insurance fund's and the auction account's included, the vault and the
//!   fees; or the collateral total) move only by what the call deposited into or withdrew from
//!   custody, exactly; the custody account holds at least what the books and the reserves
//!   say; a reserve moves only when governance (re)lists the asset;
//! - **no trace on error**: a call that fails leaves the storage root as it was;
//! - **weight**: what a call reports is at most what it declared;
//! - **no healthy account liquidated**: every account a call liquidates (or, for the
//!   liquidation calls, starts an auction for or settles a shortfall of) was below its
//!   maintenance margin at fresh prices in the state before the call;
//! - **discovery**: every account that may be liquidated is among the candidates;
//! - **caps and funds**: the insurance fund and the auction account hold no debt; the fund's
//!   payouts and each market's liquidated notional in this block are within their caps; no
//!   auction has been restarted more than [`max_restarts`] times, and none opened below the
//!   minimum lot ([`auction_lots`]);
//! - **minimum sizes** ([`minimum_sizes`]): no trade leaves a dust position, no deposit or
//!   withdrawal a dust holding;
//! - **ADL order** ([`adl_order`]): a `deleverage` takes the positions in profit best PnL%
//!   first and spares none better ranked than those it took;
//! - **operational space** ([`Admission`]): a signed transaction in the operational class is
//!   included only as a feeder's feed that the oracle accepts, or from the sudo key; a
//!   feeder's feed is never refused for want of block space; once a liquidation or
//!   deleveraging batch is in a block, every feeder's feed at its bounds still fits.
//!
//! After every block: `try_state` of every pallet (`AllPalletsWithSystem`, `Select::All`),
//! [`supplies`] (the same totals, with the storage read in full), and **ADL liveness**: when
//! the worker runs while auto-deleveraging is due (an excess, the breaker running, a position
//! among the first `MaxBatch` that may be deleveraged), the pool accepts a `deleverage` from it
//! (`chain::Chain::adl_missed`).

use crate::action::describe;
use crate::{
	actors,
	chain::{reported_weight, Probe},
};
use frame_support::{
	dispatch::{DispatchClass, DispatchInfo, GetDispatchInfo},
	traits::{fungibles::Inspect, Get},
};
use perp_primitives::{AssetId, MarginReader};
use perpchain_runtime::{
	asset_ids, configs::NativeAndAssets, AccountId, Margin, Runtime, RuntimeCall, RuntimeEvent,
	RuntimeOrigin,
};
use sp_runtime::{transaction_validity::InvalidTransaction, ApplyExtrinsicResult};
use std::collections::{BTreeMap, BTreeSet};

type MarginEvent = pallet_margin::Event<Runtime>;
type LiquidationEvent = pallet_liquidation::Event<Runtime>;

/// The most restarts an auction may see before its lot must leave the auction (the runtime's
/// `MaxRestarts`): more means keepers can farm restart tips from the insurance fund forever.
pub fn max_restarts() -> u32 {
	<Runtime as pallet_liquidation::Config>::MaxRestarts::get()
}

/// A broken invariant: which, and what was seen.
#[derive(Clone, Debug, PartialEq)]
pub struct Violation {
	/// The invariant's short name.
	pub invariant: &'static str,
	/// What was seen.
	pub detail: String,
}

fn violation(invariant: &'static str, detail: impl Into<String>) -> Violation {
	Violation { invariant, detail: detail.into() }
}

fn ensure(
	ok: bool,
	invariant: &'static str,
	detail: impl FnOnce() -> String,
) -> Result<(), Violation> {
	if ok {
		Ok(())
	} else {
		Err(violation(invariant, detail()))
	}
}

/// What the state before a call says of its admission to the operational class, to check
/// against what applying it gave ([`Admission::check`]).
pub struct Admission {
	/// The call, its class, and whether it is a liquidation or deleveraging batch.
	call: RuntimeCall,
	class: DispatchClass,
	batch: bool,
	/// The signer, whether it is a feeder and whether it holds the sudo key.
	signer: Option<AccountId>,
	feeder: bool,
	sudo: bool,
}

impl Admission {
	/// Reads, before `call` from `origin` is applied, what its admission depends on.
	pub fn before(origin: &RuntimeOrigin, call: &RuntimeCall) -> Admission {
		use frame_support::traits::OriginTrait;
		let signer = origin.as_signer().cloned();
		let feeder = signer
			.as_ref()
			.is_some_and(|who| pallet_perp_oracle::Feeders::<Runtime>::get().contains(who));
		let sudo = signer.is_some() && pallet_sudo::Key::<Runtime>::get() == signer;
		let batch = matches!(
			call,
			RuntimeCall::Liquidation(
				pallet_liquidation::Call::liquidate { .. }
					| pallet_liquidation::Call::deleverage { .. }
			)
		);
		let class = call.get_dispatch_info().class;
		Admission { call: call.clone(), class, batch, signer, feeder, sudo }
	}

	/// Checks what applying the call gave, on the state after it.
	pub fn check(&self, applied: &ApplyExtrinsicResult) -> Result<(), Violation> {
		let feed = matches!(self.call, RuntimeCall::Oracle(pallet_perp_oracle::Call::feed { .. }));
		if let (Some(who), Ok(dispatched)) = (&self.signer, applied) {
			let allowed = self.sudo || (feed && self.feeder && dispatched.is_ok());
			ensure(
				self.class != DispatchClass::Operational || allowed,
				"operational-space",
				|| {
					format!(
						"{who}'s operational {} was included: {dispatched:?}",
						describe(&self.call)
					)
				},
			)?;
		}
		let exhausted = Err(InvalidTransaction::ExhaustsResources.into());
		ensure(!(feed && self.feeder && *applied == exhausted), "feed-room", || {
			"a feeder's feed found no room in the block".into()
		})?;
		if self.batch && applied.is_ok() {
			ensure(feeds_fit(), "feed-room", || {
				format!("after {}, the feeds at their bounds no longer fit", describe(&self.call))
			})?;
		}
		Ok(())
	}
}

/// Whether every feeder's feed at its bounds (`MaxFeeders` feeds of `MaxValuesPerFeed`
/// values) would still be admitted into the block being built, as the block builder admits
/// them one after the other (`CheckWeight`).
pub fn feeds_fit() -> bool {
	use pallet_perp_oracle::WeightInfo as _;
	type Oracle = <Runtime as pallet_perp_oracle::Config>::WeightInfo;
	let feeders: u32 = <Runtime as pallet_perp_oracle::Config>::MaxFeeders::get();
	let values: u32 = <Runtime as pallet_perp_oracle::Config>::MaxValuesPerFeed::get();
	let feed = DispatchInfo {
		call_weight: Oracle::feed(values, feeders),
		class: DispatchClass::Operational,
		..Default::default()
	};
	crate::chain::rolled_back(|| {
		(0..feeders).all(|_| frame_system::CheckWeight::<Runtime>::do_prepare(&feed, 0, 0).is_ok())
	})
}

/// Every asset's totals at one moment: the native token's and each `pallet-assets` asset's
/// accounts against their issuance, and margin's books.
#[derive(Clone, Debug, PartialEq)]
pub struct Books {
	/// The native token: what the accounts hold, and the issuance.
	native: (u128, u128),
	/// Per `pallet-assets` asset: what the accounts hold, and the supply.
	assets: BTreeMap<AssetId, (u128, u128)>,
	/// What the custody account holds.
	custody: BTreeMap<AssetId, u128>,
	/// Margin's books: for USD every account's cash, the vault and the fees; for another
	/// asset its collateral total.
	books: BTreeMap<AssetId, i128>,
	/// Margin's custody reserve.
	reserve: BTreeMap<AssetId, u128>,
}

impl Books {
	/// Reads the books from the state, by key rather than by iterating the storage: the
	/// balances of `accounts` (every account that exists, see [`accounts`]) and the margin
	/// accounts of the signers and the protocol's accounts (the only ones that can hold one).
	/// [`supplies`] checks both assumptions after every block.
	pub fn read(accounts: &BTreeSet<AccountId>) -> Books {
		let native = accounts
			.iter()
			.map(|who| frame_system::Account::<Runtime>::get(who).data)
			.fold(0u128, |sum, data| sum + data.free + data.reserved);
		let issuance = pallet_balances::TotalIssuance::<Runtime>::get();
		let mut assets = BTreeMap::new();
		for (id, details) in pallet_assets::Asset::<Runtime>::iter() {
			let held = accounts
				.iter()
				.filter_map(|who| pallet_assets::Account::<Runtime>::get(id, who))
				.fold(0u128, |sum, account| sum + account.balance);
			assets.insert(id, (held, details.supply));
		}
		let usd = asset_ids::USD;
		let cash: i128 = actors::all_accounts()
			.iter()
			.filter_map(pallet_margin::Accounts::<Runtime>::get)
			.map(|account| account.cash)
			.sum();
		let mut books = BTreeMap::from([(
			usd,
			cash + pallet_margin::Vault::<Runtime>::get()
				+ pallet_margin::Fees::<Runtime>::get() as i128,
		)]);
		for (asset, total) in pallet_margin::TotalCollateral::<Runtime>::iter() {
			books.insert(asset, total as i128);
		}
		let reserve: BTreeMap<AssetId, u128> =
			pallet_margin::CustodyReserve::<Runtime>::iter().collect();
		let custody_account = Margin::custody_account();
		let custody = books
			.keys()
			.chain(reserve.keys())
			.map(|asset| (*asset, NativeAndAssets::balance(*asset, &custody_account)))
			.collect();
		Books { native: (native, issuance), assets, custody, books, reserve }
	}
}

/// Every account that exists now (read in full; a campaign then follows the `NewAccount`
/// events, see [`track_accounts`]).
pub fn accounts() -> BTreeSet<AccountId> {
	frame_system::Account::<Runtime>::iter_keys().collect()
}

/// Adds the accounts `events` created to `accounts`. (Killed ones stay: they read as empty.)
pub fn track_accounts(accounts: &mut BTreeSet<AccountId>, events: &[RuntimeEvent]) {
	for event in events {
		if let RuntimeEvent::System(frame_system::Event::NewAccount { account }) = event {
			accounts.insert(account.clone());
		}
	}
}

/// After a block, from a full read of the state: the native token's accounts add up to its
/// issuance and each `pallet-assets` asset's to its supply; every margin account belongs to
/// a signer or a protocol account (what [`Books::read`] relies on); each asset's collateral
/// entries add up to its total.
pub fn supplies() -> Result<(), Violation> {
	let held = frame_system::Account::<Runtime>::iter()
		.fold(0u128, |sum, (_, info)| sum + info.data.free + info.data.reserved);
	let issuance = pallet_balances::TotalIssuance::<Runtime>::get();
	ensure(held == issuance, "native-issuance", || {
		format!("accounts hold {held}, issuance is {issuance}")
	})?;
	for (asset, details) in pallet_assets::Asset::<Runtime>::iter() {
		let held = pallet_assets::Account::<Runtime>::iter_prefix(asset)
			.fold(0u128, |sum, (_, account)| sum + account.balance);
		ensure(held == details.supply, "asset-supply", || {
			format!("asset {asset}: accounts hold {held}, supply is {}", details.supply)
		})?;
	}
	let known = actors::all_accounts();
	for who in pallet_margin::Accounts::<Runtime>::iter_keys() {
		ensure(known.contains(&who), "margin-accounts", || {
			format!("{who} holds a margin account the books do not read")
		})?;
	}
	let mut entries: BTreeMap<AssetId, u128> = BTreeMap::new();
	for (_, account) in pallet_margin::Accounts::<Runtime>::iter() {
		for (asset, balance) in account.collateral {
			*entries.entry(asset).or_default() += balance;
		}
	}
	for (asset, total) in pallet_margin::TotalCollateral::<Runtime>::iter() {
		let sum = entries.remove(&asset).unwrap_or_default();
		ensure(sum == total, "collateral-entries", || {
			format!("asset {asset}: entries add up to {sum}, total is {total}")
		})?;
	}
	ensure(entries.values().all(|sum| *sum == 0), "collateral-entries", || {
		format!("entries without a total: {entries:?}")
	})
}

/// Conservation across one call, from the books before and after it and its events.
pub fn conservation(
	before: &Books,
	after: &Books,
	events: &[RuntimeEvent],
) -> Result<(), Violation> {
	let (held, issuance) = after.native;
	ensure(held == issuance, "native-issuance", || {
		format!("accounts hold {held}, issuance is {issuance}")
	})?;
	for (asset, (held, supply)) in &after.assets {
		ensure(held == supply, "asset-supply", || {
			format!("asset {asset}: accounts hold {held}, supply is {supply}")
		})?;
	}
	// What the call moved across custody's boundary, per asset, by margin's own account.
	let mut flow: BTreeMap<AssetId, i128> = BTreeMap::new();
	let mut relisted = BTreeSet::new();
	for event in events {
		match event {
			RuntimeEvent::Margin(MarginEvent::Deposited { asset, amount, .. }) => {
				*flow.entry(*asset).or_default() += *amount as i128
			},
			RuntimeEvent::Margin(MarginEvent::Withdrawn { asset, amount, .. }) => {
				*flow.entry(*asset).or_default() -= *amount as i128
			},
			RuntimeEvent::Margin(MarginEvent::VaultFunded { amount, .. }) => {
				*flow.entry(asset_ids::USD).or_default() += *amount as i128
			},
			RuntimeEvent::Margin(MarginEvent::CollateralSet { asset, .. }) => {
				relisted.insert(*asset);
			},
			_ => {},
		}
	}
	let assets: BTreeSet<AssetId> = before
		.books
		.keys()
		.chain(after.books.keys())
		.chain(flow.keys())
		.copied()
		.collect();
	for asset in assets {
		let was = before.books.get(&asset).copied().unwrap_or_default();
		let is = after.books.get(&asset).copied().unwrap_or_default();
		let moved = flow.get(&asset).copied().unwrap_or_default();
		ensure(is - was == moved, "margin-books", || {
			format!(
				"asset {asset}: books went {was} -> {is} ({:+}), custody flows {moved:+}",
				is - was
			)
		})?;
	}
	for (asset, reserve) in &after.reserve {
		let was = before.reserve.get(asset).copied();
		ensure(was == Some(*reserve) || relisted.contains(asset), "custody-reserve", || {
			format!("asset {asset}: reserve {was:?} -> {reserve} with no listing")
		})?;
	}
	for (asset, held) in &after.custody {
		let owed = after.books.get(asset).copied().unwrap_or_default()
			+ after.reserve.get(asset).copied().unwrap_or_default() as i128;
		ensure(*held as i128 >= owed, "custody-holds", || {
			format!("asset {asset}: custody holds {held}, owes {owed}")
		})?;
	}
	Ok(())
}

/// A call's probe: no trace on failure, and no more weight reported than declared.
pub fn probe_checks(probe: &Probe) -> Result<(), Violation> {
	ensure(!probe.left_a_trace, "no-trace-on-error", || {
		format!("failed with {:?} and changed the storage", probe.result.as_ref().err())
	})?;
	if let Some(reported) = reported_weight(&probe.result) {
		ensure(reported.all_lte(probe.declared), "declared-weight", || {
			format!("reported {reported:?}, declared {:?}", probe.declared)
		})?;
	}
	Ok(())
}

/// The accounts a call liquidated, by its events: every `Liquidated`, and for the liquidation
/// calls themselves also the accounts whose debt stage they ran.
pub fn liquidated(call: &RuntimeCall, events: &[RuntimeEvent]) -> Vec<AccountId> {
	let liquidation_call = matches!(
		call,
		RuntimeCall::Liquidation(
			pallet_liquidation::Call::liquidate { .. }
				| pallet_liquidation::Call::liquidate_account { .. }
		)
	);
	let mut accounts = Vec::new();
	for event in events {
		match event {
			RuntimeEvent::Liquidation(LiquidationEvent::Liquidated { who, .. }) => {
				accounts.push(who.clone())
			},
			RuntimeEvent::Liquidation(
				LiquidationEvent::AuctionStarted { who, .. }
				| LiquidationEvent::ShortfallSettled { who, .. },
			) if liquidation_call => accounts.push(who.clone()),
			_ => {},
		}
	}
	accounts.sort();
	accounts.dedup();
	accounts
}

/// On the state before the call: each of `accounts` was below its maintenance margin at fresh
/// prices, or in a liquidation under way and below its exit (maintenance margin times one plus
/// margin's `ExitBuffer`).
pub fn were_liquidatable(accounts: &[AccountId]) -> Result<(), Violation> {
	let exit = <Runtime as pallet_margin::Config>::ExitBuffer::get();
	for who in accounts {
		let risk = <Margin as MarginReader<AccountId>>::risk(who, &mut Default::default());
		let margins = risk.as_ref().map(|risk| risk.margins);
		let admitted = risk.as_ref().is_some_and(|risk| {
			let m = risk.margins;
			let below_exit = m.equity < (m.maintenance + exit.mul_ceil(m.maintenance)) as i128;
			m.state().is_liquidatable() || (risk.in_liquidation && below_exit)
		});
		ensure(admitted, "healthy-liquidated", || {
			format!("{who} was liquidated with margins {margins:?} before the call")
		})?;
	}
	Ok(())
}

/// Every account that may be liquidated now is a candidate.
pub fn discovery() -> Result<(), Violation> {
	let accounts = actors::all_accounts();
	let limit = accounts.len() as u32 + 1;
	let candidates: BTreeSet<AccountId> =
		pallet_liquidation::Pallet::<Runtime>::candidates(limit).into_iter().collect();
	for who in accounts {
		if pallet_liquidation::Pallet::<Runtime>::may_liquidate(&who) {
			ensure(candidates.contains(&who), "discovery", || {
				format!("{who} may be liquidated but is not a candidate")
			})?;
		}
	}
	Ok(())
}

/// The funds hold no debt, and this block's payouts and liquidated notional are within their
/// caps.
pub fn caps(block: u32) -> Result<(), Violation> {
	type Liquidation = pallet_liquidation::Pallet<Runtime>;
	for (name, who) in [
		("insurance fund", Liquidation::insurance_fund()),
		("auction account", Liquidation::auction_account()),
	] {
		let cash = <Margin as MarginReader<AccountId>>::cash(&who);
		ensure(cash >= 0, "fund-in-debt", || format!("the {name} holds {cash} USD"))?;
	}
	let pallet_liquidation::BlockTally { block: at, amount: paid } =
		pallet_liquidation::InsurancePaid::<Runtime>::get();
	let cap = <Runtime as pallet_liquidation::Config>::InsuranceCapPerBlock::get();
	ensure(at != block || paid <= cap, "insurance-cap", || {
		format!("the fund paid {paid} in block {block}, cap {cap}")
	})?;
	let cap = <Runtime as pallet_liquidation::Config>::MaxLiquidatedNotionalPerBlock::get();
	for (market, tally) in pallet_liquidation::LiquidatedNotional::<Runtime>::iter() {
		let (at, notional) = (tally.block, tally.amount);
		ensure(at != block || notional <= cap, "notional-cap", || {
			format!("market {market}: {notional} liquidated in block {block}, cap {cap}")
		})?;
	}
	Ok(())
}

/// Every auction `events` opened is worth the minimum lot (the auctions' `dust`) at the
/// oracle price and raises at least that much: smaller ones are folded into the insurance
/// fund, or they would sit unsold and be restarted for tips, and crowd out real debts.
pub fn auction_lots(events: &[RuntimeEvent]) -> Result<(), Violation> {
	use perp_primitives::PriceProvider;
	let dust = pallet_liquidation::Params::<Runtime>::get().dust;
	let su = <Runtime as pallet_margin::Config>::SettlementUnit::get();
	for event in events {
		let RuntimeEvent::Liquidation(LiquidationEvent::AuctionStarted {
			id, asset, lot, tab, ..
		}) = event
		else {
			continue;
		};
		let Some(auction) = pallet_liquidation::Auctions::<Runtime>::get(id) else { continue };
		let price = perpchain_runtime::Oracle::price(*asset).price;
		let worth =
			perp_primitives::usd_value(*lot, auction.unit, price, su, sp_runtime::Rounding::Down)
				.unwrap_or(u128::MAX);
		ensure(*tab >= dust && worth >= dust, "auction-min-lot", || {
			format!("auction {id}: a lot worth {worth} raising {tab}, minimum lot {dust}")
		})?;
	}
	Ok(())
}

/// No trade leaves a position worth less than its market's `min_notional` at the trade price,
/// and no deposit or withdrawal leaves a holding below its asset's `min_amount` (dust costs a
/// liquidation's weight and pays nothing).
pub fn minimum_sizes(events: &[RuntimeEvent]) -> Result<(), Violation> {
	let su = <Runtime as pallet_margin::Config>::SettlementUnit::get();
	for event in events {
		match event {
			RuntimeEvent::Margin(MarginEvent::Traded { who, market, size, price, .. })
				if *size != 0 =>
			{
				let Some(params) = pallet_margin::Markets::<Runtime>::get(market) else { continue };
				let notional = perp_primitives::usd_value(
					size.unsigned_abs(),
					params.unit,
					*price,
					su,
					sp_runtime::Rounding::Down,
				)
				.unwrap_or(u128::MAX);
				ensure(notional >= params.min_notional, "minimum-sizes", || {
					format!("{who} left {notional} of notional in market {market}")
				})?;
			},
			RuntimeEvent::Margin(
				MarginEvent::Deposited { who, asset, .. }
				| MarginEvent::Withdrawn { who, asset, .. },
			) => {
				let Some(params) = pallet_margin::CollateralAssets::<Runtime>::get(asset) else {
					continue;
				};
				let held =
					pallet_margin::Accounts::<Runtime>::get(who).map_or(0, |a| a.holding(*asset));
				ensure(held == 0 || held >= params.min_amount, "minimum-sizes", || {
					format!("{who} holds {held} of asset {asset}, minimum {}", params.min_amount)
				})?;
			},
			_ => {},
		}
	}
	Ok(())
}

/// Counts `events`' auction restarts into `restarts`; fails past [`max_restarts`].
pub fn restarts(
	restarts: &mut BTreeMap<pallet_liquidation::AuctionId, u32>,
	events: &[RuntimeEvent],
) -> Result<(), Violation> {
	for event in events {
		if let RuntimeEvent::Liquidation(LiquidationEvent::AuctionRestarted { id, .. }) = event {
			let count = restarts.entry(*id).or_default();
			*count += 1;
			ensure(*count <= max_restarts(), "auction-restarts", || {
				format!("auction {id} restarted {count} times")
			})?;
		}
	}
	Ok(())
}

/// Every position in profit before a `deleverage`, with its PnL% at the market's fresh price,
/// computed from its entry price here, apart from the chain's profit order: what
/// [`adl_order`] checks the call's choices against. `None` for any other call.
pub struct Profits {
	gains: BTreeMap<(AccountId, perp_primitives::MarketId), sp_runtime::FixedU128>,
	max: u32,
}

impl Profits {
	/// Reads them before `call`, if it is a `deleverage`.
	pub fn before(call: &RuntimeCall) -> Option<Profits> {
		use perp_primitives::PriceProvider;
		use sp_runtime::traits::{CheckedDiv, CheckedSub, Zero};
		let RuntimeCall::Liquidation(pallet_liquidation::Call::deleverage { max }) = call else {
			return None;
		};
		let su = <Runtime as pallet_margin::Config>::SettlementUnit::get();
		let mut gains = BTreeMap::new();
		for (who, account) in pallet_margin::Accounts::<Runtime>::iter() {
			for position in account.positions.iter() {
				let Some(params) = pallet_margin::Markets::<Runtime>::get(position.market) else {
					continue;
				};
				let Some(price) = perpchain_runtime::Oracle::price(params.asset).fresh() else {
					continue;
				};
				let entry = perp_primitives::entry_price(
					position.cost.unsigned_abs(),
					position.size.unsigned_abs(),
					params.unit,
					su,
					sp_runtime::Rounding::NearestPrefUp,
				)
				.unwrap_or(sp_runtime::FixedU128::from_inner(u128::MAX));
				let profit = if position.size > 0 {
					price.checked_sub(&entry)
				} else {
					entry.checked_sub(&price)
				};
				let Some(profit) = profit.filter(|p| !p.is_zero()) else { continue };
				let gain = profit
					.checked_div(&entry)
					.unwrap_or(sp_runtime::FixedU128::from_inner(u128::MAX));
				gains.insert((who.clone(), position.market), gain);
			}
		}
		Some(Profits { gains, max: *max })
	}
}

/// **ADL order**: the positions a `deleverage` closed or passed over were in profit, went best
/// PnL% first, and spared none better ranked than the last of them; and while an excess is
/// left and the call could look further, none in profit was left out (no author can choose
/// whom ADL spares).
pub fn adl_order(before: &Option<Profits>, events: &[RuntimeEvent]) -> Result<(), Violation> {
	let Some(before) = before else { return Ok(()) };
	let visited: Vec<(AccountId, perp_primitives::MarketId)> = events
		.iter()
		.filter_map(|event| match event {
			RuntimeEvent::Liquidation(
				LiquidationEvent::Deleveraged { who, market, .. }
				| LiquidationEvent::DeleverageSkipped { who, market },
			) => Some((who.clone(), *market)),
			_ => None,
		})
		.collect();
	let mut last = None;
	for key in &visited {
		let gain = before.gains.get(key).copied();
		ensure(gain.is_some(), "adl-order", || {
			format!("{} in market {} was deleveraged out of profit", key.0, key.1)
		})?;
		ensure(last.is_none_or(|last| gain <= Some(last)), "adl-order", || {
			format!("{} in market {} (PnL% {gain:?}) came after {last:?}", key.0, key.1)
		})?;
		last = gain;
	}
	// Stale entries the walk pruned were steps too (they rank no position).
	let pruned = events
		.iter()
		.filter(|event| {
			matches!(event, RuntimeEvent::Liquidation(LiquidationEvent::StaleRankPruned { .. }))
		})
		.count();
	let unvisited = before.gains.iter().filter(|(key, _)| !visited.contains(key));
	let short = pallet_liquidation::Pallet::<Runtime>::adl_excess() > 0
		&& ((visited.len() + pruned) as u32) < before.max
		&& !visited.is_empty();
	for ((who, market), gain) in unvisited {
		ensure(last.is_none_or(|last| *gain <= last), "adl-order", || {
			format!("{who} in market {market} (PnL% {gain}) was spared for {last:?}")
		})?;
		ensure(!short, "adl-order", || {
			format!("{who} in market {market} (PnL% {gain}) left out with an excess to recover")
		})?;
	}
	Ok(())
}
