//! The `do_*` functions behind the calls: the breaker, the partial-liquidation stage (a), the
//! hand-over to the collateral stage (b, in `auction.rs`) and the shortfall stage (c).

use crate::{
	pallet::*,
	types::{Outcome, Step},
};
use alloc::vec::Vec;
use frame_support::{ensure, pallet_prelude::*};
use frame_system::pallet_prelude::BlockNumberFor;
use perp_primitives::{
	units_for_usd, usd_value, Balance, Close, MarginLiquidator, Margins, PositionRisk, Price,
	Reduction,
};
use sp_runtime::{traits::Saturating, FixedU128, Rounding};

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
	/// (an account whose liquidation failed, and was rolled back, counts: its weight was used).
	pub(crate) fn do_liquidate(accounts: &AccountsOf<T>) -> Result<u32, DispatchError> {
		ensure!(Breaker::<T>::get() == BreakerLevel::Running, Error::<T>::BreakerActive);
		Self::ensure_batch(accounts)?;
		let mut done = 0;
		for who in accounts.iter() {
			let Some(before) = Self::verdict(who) else {
				Self::deposit_event(Event::Skipped { who: who.clone() });
				continue;
			};
			// One account's failure (rolled back) does not stop the others.
			if let Err(error) =
				frame_support::storage::with_storage_layer(|| Self::run_waterfall(who, before))
			{
				log::warn!(target: crate::offchain::LOG_TARGET, "liquidation failed: {error:?}");
				Self::deposit_event(Event::LiquidationFailed { who: who.clone(), error });
			}
			done += 1;
		}
		Ok(done)
	}

	/// A keeper's signed liquidation of `who`: the waterfall, then the keeper's share of the
	/// penalties from the insurance fund. Returns whether the waterfall did anything (it does
	/// not when every market's notional cap for the block is reached).
	pub(crate) fn do_keeper_liquidate(
		keeper: T::AccountId,
		who: T::AccountId,
	) -> Result<bool, DispatchError> {
		ensure!(Breaker::<T>::get() == BreakerLevel::Running, Error::<T>::BreakerActive);
		let before = Self::verdict(&who).ok_or(Error::<T>::NotLiquidatable)?;
		let outcome = Self::run_waterfall(&who, before)?;
		let reward = T::KeeperShare::get().mul_floor(outcome.penalty());
		if reward > 0 && keeper != who {
			T::Margin::transfer_cash(&Self::insurance_fund(), &keeper, reward)?;
			Self::deposit_event(Event::KeeperRewarded { keeper, who, reward });
		}
		Ok(!outcome.path.is_empty())
	}

	/// The waterfall for one liquidatable account, whose margins `before` were just read
	/// (`verdict`): stage (a) on its positions, then, with none left, its debt (see
	/// `settle_debt`).
	pub(crate) fn run_waterfall(
		who: &T::AccountId,
		before: Margins,
	) -> Result<Outcome, DispatchError> {
		let mut outcome = Self::reduce_positions(who, before)?;
		let closed = outcome.path.len();
		if !outcome.positions_left && OpenAuctions::<T>::get(who) == 0 {
			Self::settle_debt(who, outcome.after, &mut outcome.path)?;
		}
		// Closing positions leaves the risk index to this pallet; a debt stage step (a seizure,
		// or the shortfall covered) has re-indexed the account already.
		if closed > 0 && outcome.path.len() == closed {
			T::Margin::reindex(who);
		}
		Ok(outcome)
	}

	/// The debt of an account with no position and no auction open: stage (b) auctions the
	/// collateral that covers it; with no collateral left, stage (c) settles it. `margins` are
	/// the account's at fresh prices as it is now; without them (no fresh prices) nothing
	/// happens (no verdict; a later liquidation takes it).
	pub(crate) fn settle_debt(
		who: &T::AccountId,
		margins: Option<Margins>,
		path: &mut Vec<Step>,
	) -> DispatchResult {
		if margins.is_none() || T::Margin::cash(who) >= 0 {
			return Ok(());
		}
		let holdings = T::Margin::collaterals(who);
		if holdings.is_empty() {
			Self::settle_shortfall(who, path)
		} else {
			Self::start_auctions(who, holdings, path)
		}
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
		let paid = Self::in_block(InsurancePaid::<T>::get(), now);
		let room = T::InsuranceCapPerBlock::get().saturating_sub(paid);
		let uncovered = T::Margin::cover_shortfall(who, &Self::insurance_fund(), room)?;
		let insurance = debt.saturating_sub(uncovered);
		InsurancePaid::<T>::put((now, paid.saturating_add(insurance)));
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

	/// Stage (a), partial liquidation, of one liquidatable account with margins `before`.
	fn reduce_positions(who: &T::AccountId, before: Margins) -> Result<Outcome, DispatchError> {
		let exposures = T::Margin::exposures(who);
		// Until a position is seen closed, it counts as left (also when stage (a) stops early).
		let mut outcome = Outcome {
			path: Vec::new(),
			positions_left: !exposures.is_empty(),
			after: Some(before),
		};
		if exposures.is_empty() {
			return Ok(outcome);
		}
		let mut open = exposures.len();
		let full = Self::needs_full_liquidation(&before);
		let fund = Self::insurance_fund();
		let now = frame_system::Pallet::<T>::block_number();
		let su = T::Margin::settlement_unit();
		let mut steps = 0u32;
		let mut after = before;
		// The margins at fresh prices after the last close, if there are fresh prices.
		let mut fresh = Some(before);
		let mut record =
			|position: &PositionRisk, close: &Close, used: Balance, reduction: &Reduction| {
				let notional =
					usd_value(reduction.closed, position.unit, close.price, su, Rounding::Up)
						.unwrap_or(Balance::MAX);
				LiquidatedNotional::<T>::insert(close.market, (now, used.saturating_add(notional)));
				steps += 1;
				if reduction.remaining == 0 {
					open -= 1;
				}
				outcome.path.push(Step::Close {
					market: close.market,
					closed: reduction.closed,
					price: close.price,
					penalty: reduction.penalty,
				});
				Self::deposit_event(Event::PositionClosed {
					who: who.clone(),
					market: close.market,
					closed: reduction.closed,
					price: close.price,
					penalty: reduction.penalty,
				});
			};
		if full {
			// Every position in one go: margin writes the account, the fund, the vault and open
			// interest once (the risk index is left to `run_waterfall`).
			let planned: Vec<_> = exposures
				.iter()
				.filter_map(|position| {
					Self::plan_close(who, position, true, now, su).map(|plan| (position, plan))
				})
				.collect();
			let closes: Vec<Close> = planned.iter().map(|(_, (close, _))| *close).collect();
			if !closes.is_empty() {
				let reductions =
					T::Margin::reduce_positions(who, &closes, T::Penalty::get(), &fund)?;
				for ((position, (close, used)), reduction) in planned.iter().zip(&reductions) {
					record(position, close, *used, reduction);
				}
				fresh = T::Margin::margins(who);
				after = fresh.unwrap_or(after);
			}
		} else {
			// One step at a time, until the account is restored.
			for position in &exposures {
				let Some((close, used)) = Self::plan_close(who, position, false, now, su) else {
					continue;
				};
				let reduction = T::Margin::reduce_position(
					who,
					close.market,
					close.amount,
					close.price,
					T::Penalty::get(),
					&fund,
				)?;
				record(position, &close, used, &reduction);
				fresh = T::Margin::margins(who);
				match fresh {
					Some(margins) => after = margins,
					None => break,
				}
				if Self::is_restored(&after) {
					break;
				}
			}
		}
		outcome.positions_left = open > 0;
		outcome.after = fresh;
		Self::deposit_event(Event::Liquidated {
			who: who.clone(),
			steps,
			full,
			equity: after.equity,
			maintenance: after.maintenance,
		});
		Ok(outcome)
	}

	/// What stage (a) closes of `position` now, with the market's notional closed so far in
	/// this block: all of it (`full`) or its partial share, at the discounted price, within the
	/// market's cap for the block. `None`, with a `Deferred` event, once the cap is reached.
	fn plan_close(
		who: &T::AccountId,
		position: &PositionRisk,
		full: bool,
		now: BlockNumberFor<T>,
		su: Balance,
	) -> Option<(Close, Balance)> {
		let size = position.size.unsigned_abs();
		let amount = if full { size } else { position.max_partial.mul_ceil(size).max(1) };
		let price = Self::liquidation_price(position.price, position.discount, position.size > 0);
		let used = Self::in_block(LiquidatedNotional::<T>::get(position.market), now);
		let room = T::MaxLiquidatedNotionalPerBlock::get().saturating_sub(used);
		// (Room beyond what 128 bits can express caps nothing.)
		let affordable =
			units_for_usd(room, position.unit, price, su, Rounding::Down).unwrap_or(Balance::MAX);
		let amount = amount.min(affordable);
		if amount == 0 {
			Self::deposit_event(Event::Deferred { who: who.clone(), market: position.market });
			return None;
		}
		Some((Close { market: position.market, amount, price }, used))
	}

	/// What a per-block tally `(block, amount)` holds for block `now`: nothing once the block
	/// has passed.
	pub(crate) fn in_block(
		(block, amount): (BlockNumberFor<T>, Balance),
		now: BlockNumberFor<T>,
	) -> Balance {
		if block == now {
			amount
		} else {
			0
		}
	}

	/// Below `FullLiquidationBelow` of its maintenance margin (or bankrupt), an account is
	/// closed in full.
	pub(crate) fn needs_full_liquidation(margins: &Margins) -> bool {
		let threshold = T::FullLiquidationBelow::get().mul_floor(margins.maintenance);
		margins.equity < 0 || margins.equity.unsigned_abs() < threshold
	}

	/// Equity back at the initial margin plus the buffer.
	pub(crate) fn is_restored(margins: &Margins) -> bool {
		let target = margins.initial.saturating_add(T::Buffer::get().mul_ceil(margins.initial));
		margins.equity >= 0 && margins.equity.unsigned_abs() >= target
	}

	/// The price a liquidated position closes at: the oracle price less the discount for a
	/// long (the liquidator buys cheaper), plus it for a short.
	pub(crate) fn liquidation_price(
		price: Price,
		discount: sp_runtime::Perbill,
		long: bool,
	) -> Price {
		let discount = FixedU128::from_perbill(discount);
		let factor = if long {
			FixedU128::one().saturating_sub(discount)
		} else {
			FixedU128::one().saturating_add(discount)
		};
		price.saturating_mul(factor)
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
		ensure!(Auctions::<T>::count() <= T::MaxAuctions::get(), "too many auctions");
		let holder = Self::auction_account();
		for (asset, lot) in &lots {
			ensure!(T::Margin::collateral(&holder, *asset) == *lot, "auction lots != holdings");
		}
		for (owner, count) in OpenAuctions::<T>::iter() {
			ensure!(owners.remove(&owner) == Some(count), "open auction count mismatch");
		}
		ensure!(owners.is_empty(), "auctions of an owner not counted");
		ensure!(T::Margin::cash(&Self::insurance_fund()) >= 0, "insurance fund in debt");
		ensure!(T::Margin::cash(&holder) >= 0, "auction account in debt");
		ensure!(Self::ensure_valid_params(&Params::<T>::get()).is_ok(), "params out of bounds");
		Ok(())
	}
}
