//! The `do_*` functions behind the calls: the breaker, the partial-liquidation stage (a), the
//! hand-over to the collateral stage (b, in `auction.rs`) and the shortfall stage (c).

use crate::sizing::{self, Restore, Terms, WholeClose};
use crate::types::{BlockTally, BreakerLevel, Stage};
use crate::{
	pallet::*,
	types::{ClosedPosition, Outcome, Step},
};
use alloc::vec::Vec;
use frame_support::{ensure, pallet_prelude::*, CloneNoBound};
use frame_system::pallet_prelude::BlockNumberFor;
use perp_primitives::{
	units_for_usd, usd_value, AccountRisk, Balance, Close, MarginLiquidator, MarginReader, Margins,
	MarketId, PositionRisk, Price,
};
use sp_runtime::Rounding;

/// Each market's notional closed by liquidations in this block: read from `LiquidatedNotional`
/// once per market and written back once (`store`), however many accounts a batch closes.
#[derive(CloneNoBound)]
pub(crate) struct Notional<T: Config> {
	now: BlockNumberFor<T>,
	/// (market, closed in this block, changed since read).
	markets: Vec<(MarketId, Balance, bool)>,
}

impl<T: Config> Notional<T> {
	/// A tally of the block being built, nothing read yet.
	pub(crate) fn new() -> Self {
		Self { now: frame_system::Pallet::<T>::block_number(), markets: Vec::new() }
	}

	/// The entry of `market`, read on first use (always there: found, or just pushed).
	fn entry(&mut self, market: MarketId) -> Option<&mut (MarketId, Balance, bool)> {
		let at = match self.markets.iter().position(|(m, ..)| *m == market) {
			Some(at) => at,
			None => {
				let used = LiquidatedNotional::<T>::get(market).in_block(&self.now);
				self.markets.push((market, used, false));
				self.markets.len().saturating_sub(1)
			},
		};
		self.markets.get_mut(at)
	}

	/// The notional closed in `market` so far in this block (the whole cap, were its entry
	/// missing: nothing more closes).
	pub(crate) fn used(&mut self, market: MarketId) -> Balance {
		self.entry(market).map_or(Balance::MAX, |entry| entry.1)
	}

	/// Counts `notional` more closed in `market`.
	pub(crate) fn add(&mut self, market: MarketId, notional: Balance) {
		if let Some(entry) = self.entry(market) {
			entry.1 = entry.1.saturating_add(notional);
			entry.2 = true;
		}
	}

	/// Writes the markets whose tally changed.
	pub(crate) fn store(&self) {
		for (market, amount, changed) in &self.markets {
			if *changed {
				let tally = BlockTally { block: self.now, amount: *amount };
				LiquidatedNotional::<T>::insert(market, tally);
			}
		}
	}
}

impl<T: Config> Pallet<T> {
	pub(crate) fn do_set_breaker(to: BreakerLevel) -> DispatchResult {
		let from = Breaker::<T>::get();
		ensure!(from != to, Error::<T>::BreakerUnchanged);
		Breaker::<T>::put(to);
		Self::deposit_event(Event::BreakerSet { from, to });
		Ok(())
	}

	/// A batch is non-empty and names each account once.
	pub(crate) fn ensure_batch(accounts: &AccountsOf<T>) -> DispatchResult {
		ensure!(!accounts.is_empty(), Error::<T>::EmptyBatch);
		for (i, who) in accounts.iter().enumerate() {
			ensure!(
				!accounts.iter().skip(i + 1).any(|other| other == who),
				Error::<T>::DuplicateAccount
			);
		}
		Ok(())
	}

	/// Liquidates every account of the batch that is still liquidatable; returns how many were
	/// (an account whose liquidation failed, and was rolled back, counts: its weight was used)
	/// and the weight they did not use for holding fewer positions than the most an account
	/// may (see `lighter_by`).
	pub(crate) fn do_liquidate(accounts: &AccountsOf<T>) -> Result<(u32, Weight), DispatchError> {
		ensure!(Breaker::<T>::get().allows(Stage::Liquidation), Error::<T>::BreakerActive);
		Self::ensure_batch(accounts)?;
		let mut done = 0;
		let mut unused = Weight::zero();
		// Each market's notional closed in this block, read once for the batch, written once.
		let mut closed = Notional::<T>::new();
		// Markets, collateral and prices, read once for the batch. Only what no liquidation
		// changes, so an account rolled back leaves them true.
		let mut quotes = QuotesOf::<T>::default();
		for who in accounts.iter() {
			let Some(before) = Self::verdict(who, &mut quotes) else {
				Self::deposit_event(Event::Skipped { who: who.clone() });
				continue;
			};
			unused = unused.saturating_add(Self::lighter_by(before.positions.len() as u32));
			// One account's failure (rolled back, its closes not counted) does not stop the
			// others.
			let mut with = closed.clone();
			match frame_support::storage::with_storage_layer(|| {
				Self::run_waterfall(who, before, &mut with, &mut quotes)
			}) {
				Ok(_) => closed = with,
				Err(error) => {
					log::warn!(target: crate::offchain::LOG_TARGET, "liquidation failed: {error:?}");
					Self::deposit_event(Event::LiquidationFailed { who: who.clone(), error });
				},
			}
			done += 1;
		}
		closed.store();
		Ok((done, unused))
	}

	/// A keeper's signed liquidation of `who`: the waterfall, then the keeper's share of the
	/// penalties the account could pay (`Outcome::collected_penalty`), from the insurance fund:
	/// a keeper earns nothing from bad debt. Returns whether the waterfall did anything (it does
	/// not when every market's notional cap for the block is reached).
	pub(crate) fn do_keeper_liquidate(
		keeper: T::AccountId,
		who: T::AccountId,
	) -> Result<bool, DispatchError> {
		ensure!(Breaker::<T>::get().allows(Stage::Liquidation), Error::<T>::BreakerActive);
		let mut quotes = QuotesOf::<T>::default();
		let before = Self::verdict(&who, &mut quotes).ok_or(Error::<T>::NotLiquidatable)?;
		let mut closed = Notional::<T>::new();
		let outcome = Self::run_waterfall(&who, before, &mut closed, &mut quotes)?;
		closed.store();
		let reward = T::KeeperShare::get().mul_floor(outcome.collected_penalty());
		if reward > 0 && keeper != who {
			T::Margin::transfer_cash(&Self::insurance_fund(), &keeper, reward)?;
			Self::deposit_event(Event::KeeperRewarded { keeper, who, reward });
		}
		Ok(!outcome.path.is_empty())
	}

	/// The waterfall for one liquidatable account, valued `before` just now (`verdict`):
	/// stage (a) on its positions, counting its closes in `closed`, then, with none left, its
	/// debt (see `settle_debt`), valued on `quotes`. Margin keeps the account's risk-index
	/// entries exact at every step.
	pub(crate) fn run_waterfall(
		who: &T::AccountId,
		before: AccountRisk,
		closed: &mut Notional<T>,
		quotes: &mut QuotesOf<T>,
	) -> Result<Outcome, DispatchError> {
		let (mut outcome, now) = Self::reduce_positions(who, before, closed, quotes)?;
		// (Without a valuation, the debt stage does nothing: no verdict on stale prices.)
		if !outcome.positions_left && now.as_ref().is_some_and(|now| now.open_auctions == 0) {
			Self::settle_debt(who, now, &mut outcome.path)?;
		}
		Ok(outcome)
	}

	/// The debt of an account with no position and no auction open, valued `risk` as it is
	/// now: stage (b) auctions the collateral that covers it (folding what is below the
	/// minimum lot into the fund); with no collateral left and no auction open, stage (c)
	/// settles it (collateral without a fresh price keeps it waiting). Without a valuation (no
	/// fresh prices) nothing happens: no verdict, a later liquidation takes it.
	pub(crate) fn settle_debt(
		who: &T::AccountId,
		risk: Option<AccountRisk>,
		path: &mut Vec<Step>,
	) -> DispatchResult {
		let Some(risk) = risk.filter(|risk| risk.cash < 0) else { return Ok(()) };
		if risk.collateral.is_empty() {
			// Collateral without a fresh price cannot be auctioned yet, and is no shortfall:
			// the debt waits for its price.
			if risk.unpriced_collateral {
				return Ok(());
			}
			return Self::settle_shortfall(who, path);
		}
		let unpriced = risk.unpriced_collateral;
		let left = Self::start_auctions(who, risk.collateral, path)?;
		// Folding may have taken the last of the collateral without raising the whole debt.
		let folded = path.iter().any(|step| matches!(step, Step::Folded { .. }));
		if folded
			&& !left && !unpriced
			&& T::Margin::open_auctions(who) == 0
			&& T::Margin::cash(who) < 0
		{
			Self::settle_shortfall(who, path)?;
		}
		Ok(())
	}

	/// Stage (c): the debt left after every position and auction. The insurance fund pays
	/// what it holds, at most `InsuranceCapPerBlock` a block; the vault absorbs the rest, which
	/// `SocializedLoss` records for auto-deleveraging (`adl`).
	fn settle_shortfall(who: &T::AccountId, path: &mut Vec<Step>) -> DispatchResult {
		let debt = T::Margin::cash(who);
		if debt >= 0 {
			return Ok(());
		}
		let debt = debt.unsigned_abs();
		let now = frame_system::Pallet::<T>::block_number();
		let paid = InsurancePaid::<T>::get().in_block(&now);
		let room = T::InsuranceCapPerBlock::get().saturating_sub(paid);
		let uncovered = T::Margin::cover_shortfall(who, &Self::insurance_fund(), room)?;
		let insurance = debt.saturating_sub(uncovered);
		InsurancePaid::<T>::put(BlockTally { block: now, amount: paid.saturating_add(insurance) });
		let socialized = if uncovered > 0 { T::Margin::absorb_shortfall(who)? } else { 0 };
		SocializedLoss::<T>::mutate(|loss| *loss = loss.saturating_add(socialized));
		path.push(Step::Shortfall { insurance, socialized });
		Self::deposit_event(Event::ShortfallSettled { who: who.clone(), insurance, socialized });
		Ok(())
	}

	/// Auction parameters within bounds.
	pub(crate) fn ensure_valid_params(params: &AuctionParamsOf<T>) -> DispatchResult {
		let tail: BlockNumberFor<T> = crate::types::MAX_TAIL.into();
		ensure!(
			params.start_premium <= crate::types::MAX_START_PREMIUM
				&& !params.step.is_zero()
				&& params.step <= crate::types::MAX_STEP
				&& !params.floor.is_zero()
				&& params.floor < sp_runtime::Perbill::one()
				&& params.tail > 0u32.into()
				&& params.tail <= tail,
			Error::<T>::InvalidParams
		);
		Ok(())
	}

	/// Stage (a), partial liquidation, of one liquidatable account valued `risk`. The closes
	/// are planned from it: largest maintenance margin first, each the smallest close that
	/// restores the margins the closes before it leave (`sizing::to_restore`; a position that
	/// falls short closes in full and the next goes on), within the market's close factor
	/// (`max_partial`) and its notional cap for the block; or every position in full
	/// (`needs_full_liquidation`). One margin call closes them all and values the account
	/// once afterwards. Returns the outcome and the account as it is now (`None` when it
	/// cannot be valued at fresh prices).
	fn reduce_positions(
		who: &T::AccountId,
		risk: AccountRisk,
		closed: &mut Notional<T>,
		quotes: &mut QuotesOf<T>,
	) -> Result<(Outcome, Option<AccountRisk>), DispatchError> {
		let before = risk.margins;
		let exposures = &risk.positions;
		// Until a position is seen closed, it counts as left (also when stage (a) stops early).
		let mut outcome = Outcome {
			path: Vec::new(),
			positions_left: !exposures.is_empty(),
			after: Some(before),
		};
		if exposures.is_empty() {
			return Ok((outcome, Some(risk)));
		}
		let terms = Self::terms();
		let wholes: Vec<WholeClose> =
			exposures.iter().map(|position| sizing::whole_close(position, &terms)).collect();
		let full = Self::needs_full_liquidation(&before, &wholes);
		let mut planned = Vec::with_capacity(exposures.len());
		let mut predicted = before;
		for (position, whole) in exposures.iter().zip(&wholes) {
			let price = whole.price;
			let size = position.size.unsigned_abs();
			let wanted = if full {
				size
			} else {
				let restoring = match sizing::to_restore(&predicted, position, whole, &terms) {
					Restore::Nothing => break,
					Restore::Useless => continue,
					Restore::Units(units) => units,
					Restore::All => size,
				};
				// The market's close factor: the most of a position one liquidation closes
				// (what it leaves waits for the account's next liquidation).
				restoring.min(position.max_partial.mul_ceil(size).max(1))
			};
			let Some(close) = Self::plan_close(who, position, wanted, price, closed, &terms) else {
				continue;
			};
			predicted = sizing::after_step(&predicted, position, close.amount, price, &terms);
			planned.push((position, close));
		}
		let mut after = before;
		let mut report = Vec::with_capacity(planned.len());
		let now_risk = if planned.is_empty() {
			// (Every market's cap for the block is reached: the account is as it was.)
			Some(risk.clone())
		} else {
			let closes: Vec<Close> = planned.iter().map(|(_, close)| *close).collect();
			let fund = Self::insurance_fund();
			let reduced =
				T::Margin::reduce_positions(who, &closes, T::Penalty::get(), &fund, quotes)?;
			let mut open = exposures.len();
			let su = terms.settlement_unit;
			for ((position, close), reduction) in planned.iter().zip(&reduced.reductions) {
				let notional =
					usd_value(reduction.closed, position.unit, close.price, su, Rounding::Up)
						.unwrap_or(Balance::MAX);
				closed.add(close.market, notional);
				if reduction.remaining == 0 {
					open -= 1;
				}
				let closed = i128::try_from(reduction.closed).unwrap_or(i128::MAX);
				report.push(ClosedPosition {
					market: close.market,
					closed: if position.size > 0 { closed } else { closed.saturating_neg() },
					price: close.price,
					realized: reduction.realized,
					penalty: reduction.penalty,
				});
				outcome.path.push(Step::Close {
					market: close.market,
					closed: reduction.closed,
					price: close.price,
					penalty: reduction.penalty,
				});
			}
			outcome.positions_left = open > 0;
			outcome.after = reduced.after.as_ref().map(|risk| risk.margins);
			after = outcome.after.unwrap_or(predicted);
			reduced.after
		};
		Self::deposit_event(Event::Liquidated {
			who: who.clone(),
			full,
			closes: report,
			equity: after.equity,
			maintenance: after.maintenance,
		});
		Ok((outcome, now_risk))
	}

	/// What stage (a) charges and aims for.
	pub(crate) fn terms() -> Terms {
		Terms {
			penalty: T::Penalty::get(),
			buffer: T::Buffer::get(),
			settlement_unit: T::Margin::settlement_unit(),
		}
	}

	/// What stage (a) closes of `position` now: `wanted` units at its liquidation price
	/// `price`, within the market's notional cap for the block, given what was closed in it so
	/// far (`closed`). `None`, with a `Deferred` event, once the cap is reached.
	fn plan_close(
		who: &T::AccountId,
		position: &PositionRisk,
		wanted: Balance,
		price: Price,
		closed: &mut Notional<T>,
		terms: &Terms,
	) -> Option<Close> {
		let used = closed.used(position.market);
		let room = T::MaxLiquidatedNotionalPerBlock::get().saturating_sub(used);
		// (Room beyond what 128 bits can express caps nothing.)
		let affordable =
			units_for_usd(room, position.unit, price, terms.settlement_unit, Rounding::Down)
				.unwrap_or(Balance::MAX);
		let amount = wanted.min(affordable);
		if amount == 0 {
			Self::deposit_event(Event::Deferred { who: who.clone(), market: position.market });
			return None;
		}
		Some(Close { market: position.market, amount, price })
	}

	/// An account is closed in full below `FullLiquidationBelow` of its maintenance margin
	/// (or bankrupt); when its equity does not cover what closing all of its positions costs
	/// (each market's discount plus the penalty, on its notional: `wholes`, one per position),
	/// since partial closes would then lower its equity against its maintenance margin instead
	/// of restoring it; and when no position's close gains anything against the target.
	pub(crate) fn needs_full_liquidation(margins: &Margins, wholes: &[WholeClose]) -> bool {
		let threshold = T::FullLiquidationBelow::get().mul_floor(margins.maintenance);
		if margins.equity < 0 || margins.equity.unsigned_abs() < threshold {
			return true;
		}
		// (A cost beyond 128 bits is beyond any equity: clamped.)
		let cost = wholes.iter().fold(0 as Balance, |cost, whole| cost.saturating_add(whole.cost));
		let helps = wholes.iter().any(|whole| whole.gain.is_some());
		!helps || margins.equity.unsigned_abs() < cost
	}
}

impl<T: Config> Pallet<T> {
	/// Checks the pallet's invariants (listed in the README).
	#[cfg(any(feature = "try-runtime", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		let mut lots: BTreeMap<perp_primitives::AssetId, Balance> = BTreeMap::new();
		let mut owners: BTreeMap<T::AccountId, u32> = BTreeMap::new();
		let next = NextAuctionId::<T>::get();
		for (id, auction) in Auctions::<T>::iter() {
			ensure!(id < next, "auction id not below the next id");
			ensure!(auction.lot > 0 && auction.tab > 0, "an ended auction is stored");
			ensure!(auction.floor <= auction.top, "auction floor above its top");
			let lot = lots.entry(auction.asset).or_default();
			*lot = lot.checked_add(auction.lot).ok_or("lot sum overflows")?;
			*owners.entry(auction.owner).or_default() += 1;
		}
		let open = CounterForAuctions::<T>::get();
		ensure!(Auctions::<T>::iter_keys().count() == open as usize, "auction count mismatch");
		ensure!(open <= T::MaxAuctions::get(), "too many auctions");
		let holder = Self::auction_account();
		for (asset, lot) in &lots {
			ensure!(T::Margin::collateral(&holder, *asset) == *lot, "auction lots != holdings");
		}
		for (owner, count) in T::Margin::auction_counts() {
			ensure!(owners.remove(&owner) == Some(count), "open auction count mismatch");
		}
		ensure!(owners.is_empty(), "auctions of an owner not counted");
		for (id, restarts) in Restarts::<T>::iter() {
			ensure!(Auctions::<T>::contains_key(id), "restarts of no auction");
			ensure!(restarts <= T::MaxRestarts::get(), "an auction restarted too often");
		}
		ensure!(T::Margin::cash(&Self::insurance_fund()) >= 0, "insurance fund in debt");
		ensure!(T::Margin::cash(&holder) >= 0, "auction account in debt");
		ensure!(Self::ensure_valid_params(&Params::<T>::get()).is_ok(), "params out of bounds");
		Ok(())
	}
}
