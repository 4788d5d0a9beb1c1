//! Stage (b): Dutch auctions of seized collateral.
//!
//! An auction starts at the oracle price times one plus `start_premium` and falls by `step`
//! every block. Anyone with USD cash in a margin account takes from it at the current price;
//! the payment repays the owner's debt. Past `tail` blocks or below `floor` of its starting
//! oracle price it stops until a keeper restarts it (tipped by the insurance fund). Once the tab
//! is raised the rest of the lot returns to the owner; if the lot runs out first, what stays
//! unpaid goes back to the debt stage once the owner has no other auction open: new auctions of
//! collateral it still holds, or else the shortfall stage.

use crate::types::Stage;
use crate::{
	pallet::*,
	types::{AuctionId, Step},
	Auction,
};
use alloc::vec::Vec;
use frame_support::{ensure, pallet_prelude::*};
use frame_system::pallet_prelude::BlockNumberFor;
use perp_primitives::{
	units_for_usd, usd_value, Balance, CollateralRisk, MarginLiquidator, MarginReader, Price,
	PriceProvider,
};
use sp_runtime::{
	traits::{Saturating, UniqueSaturatedInto},
	FixedU128, PerThing, Rounding,
};

/// An auction's starting price and its floor for an oracle `price`: `price` times one plus the
/// start premium, and `price` times the floor share.
fn top_and_floor<B>(price: Price, params: &crate::AuctionParams<B>) -> (Price, Price) {
	let premium = FixedU128::one().saturating_add(FixedU128::from_perbill(params.start_premium));
	(price.saturating_mul(premium), price.saturating_mul(FixedU128::from_perbill(params.floor)))
}

impl<T: Config> Pallet<T> {
	/// The price of `auction` at block `now`: its top decayed by `step` per block since it
	/// started.
	pub fn auction_price(auction: &AuctionOf<T>, now: BlockNumberFor<T>) -> Price {
		let elapsed: u32 = now.saturating_sub(auction.started).unique_saturated_into();
		let keep = FixedU128::from_perbill(Params::<T>::get().step.left_from_one());
		auction.top.saturating_mul(keep.saturating_pow(elapsed as usize))
	}

	/// Whether `auction` is past its tail or below its floor at `now`.
	pub fn needs_restart(auction: &AuctionOf<T>, now: BlockNumberFor<T>) -> bool {
		now.saturating_sub(auction.started) > Params::<T>::get().tail
			|| Self::auction_price(auction, now) < auction.floor
	}

	/// Seizes the collateral that covers `who`'s debt (`holdings`, its priced collateral as
	/// `MarginReader::risk` gives it), asset by asset, into auctions. Each
	/// seizes enough to raise the debt still uncovered even at the floor price, or all of the
	/// holding if that is not enough. A lot worth less than the minimum lot (the auctions'
	/// `dust`) at the oracle price, or raising less than it, is no auction anyone would take:
	/// the insurance fund takes it at the floor price instead, paying that (as far as its cash
	/// goes) against the debt (`fold`). At most `MaxAuctionsPerLiquidation` auctions and folds
	/// start in one call: the rest goes once they have ended (`close_auction` runs the debt
	/// stage again), or at the account's next liquidation if only folds ran. With
	/// `MaxAuctions` open, the rest waits for a later liquidation of the account. Returns
	/// whether any of `holdings` is left with the account.
	pub(crate) fn start_auctions(
		who: &T::AccountId,
		holdings: Vec<CollateralRisk>,
		path: &mut Vec<Step>,
	) -> Result<bool, DispatchError> {
		let mut uncovered = T::Margin::cash(who).min(0).unsigned_abs();
		let params = Params::<T>::get();
		let su = T::Margin::settlement_unit();
		let now = frame_system::Pallet::<T>::block_number();
		let holder = Self::auction_account();
		let last = holdings.len().saturating_sub(1);
		let most = T::MaxAuctionsPerLiquidation::get();
		let mut started = 0u32;
		let mut left = false;
		for (i, holding) in holdings.into_iter().enumerate() {
			if uncovered == 0 || started >= most {
				left = true;
				break;
			}
			let (top, floor) = top_and_floor(holding.price, &params);
			let needed = units_for_usd(uncovered, holding.unit, floor, su, Rounding::Up)
				.unwrap_or(Balance::MAX);
			let lot = needed.min(holding.amount);
			// A lot that covers the debt even at the floor, or the last one, raises all of it;
			// another raises what it is worth at the oracle price and leaves the rest to the
			// next asset.
			let tab = if needed <= holding.amount || i == last {
				uncovered
			} else {
				usd_value(lot, holding.unit, holding.price, su, Rounding::Down)
					.unwrap_or(0)
					.min(uncovered)
			};
			left |= lot < holding.amount;
			if tab == 0 || lot == 0 {
				continue;
			}
			let worth =
				usd_value(lot, holding.unit, holding.price, su, Rounding::Down).unwrap_or(0);
			if worth < params.dust || tab < params.dust {
				let at_floor = usd_value(lot, holding.unit, floor, su, Rounding::Down).unwrap_or(0);
				uncovered -= Self::fold(who, holding.asset, lot, at_floor.min(uncovered), path)?;
				started += 1;
				continue;
			}
			if CounterForAuctions::<T>::get() >= T::MaxAuctions::get() {
				log::warn!(target: crate::offchain::LOG_TARGET, "MaxAuctions open: debt waits");
				left = true;
				break;
			}
			T::Margin::auction_collateral(who, holding.asset, lot, &holder)?;
			let id = NextAuctionId::<T>::get();
			NextAuctionId::<T>::put(id.checked_add(1).ok_or(Error::<T>::Overflow)?);
			Self::open_auction(
				id,
				Auction {
					owner: who.clone(),
					asset: holding.asset,
					unit: holding.unit,
					lot,
					tab,
					top,
					floor,
					started: now,
				},
			);
			started += 1;
			uncovered -= tab;
			path.push(Step::Auction { id, asset: holding.asset, lot, tab });
			Self::deposit_event(Event::AuctionStarted {
				id,
				who: who.clone(),
				asset: holding.asset,
				lot,
				tab,
				top,
			});
		}
		Ok(left)
	}

	/// Moves `amount` of `who`'s collateral `asset` to the insurance fund, which pays `value`
	/// USD for it into `who`'s account, or what it holds if less. Returns what it paid.
	fn fold(
		who: &T::AccountId,
		asset: perp_primitives::AssetId,
		amount: Balance,
		value: Balance,
		path: &mut Vec<Step>,
	) -> Result<Balance, DispatchError> {
		let fund = Self::insurance_fund();
		T::Margin::seize_collateral(who, asset, amount, &fund)?;
		let paid = value.min(T::Margin::cash(&fund).max(0).unsigned_abs());
		if paid > 0 {
			T::Margin::transfer_cash(&fund, who, paid)?;
		}
		path.push(Step::Folded { asset, amount, paid });
		Self::deposit_event(Event::CollateralFolded { who: who.clone(), asset, amount, paid });
		Ok(paid)
	}

	pub(crate) fn do_take(
		taker: T::AccountId,
		id: AuctionId,
		max_amount: Balance,
		max_price: Price,
	) -> Result<bool, DispatchError> {
		ensure!(Breaker::<T>::get().allows(Stage::Auction), Error::<T>::BreakerActive);
		ensure!(max_amount > 0, Error::<T>::ZeroAmount);
		let mut auction = Auctions::<T>::get(id).ok_or(Error::<T>::UnknownAuction)?;
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(!Self::needs_restart(&auction, now), Error::<T>::AuctionNeedsRestart);
		let price = Self::auction_price(&auction, now);
		ensure!(price <= max_price, Error::<T>::PriceAboveLimit);

		let su = T::Margin::settlement_unit();
		let mut amount = max_amount.min(auction.lot);
		let mut owe =
			usd_value(amount, auction.unit, price, su, Rounding::Up).ok_or(Error::<T>::Overflow)?;
		if owe >= auction.tab {
			// The tab caps the payment: the taker gets what the tab buys, rounded down.
			owe = auction.tab;
			amount = units_for_usd(owe, auction.unit, price, su, Rounding::Down)
				.ok_or(Error::<T>::Overflow)?
				.min(auction.lot);
			ensure!(amount > 0, Error::<T>::ZeroAmount);
		} else if amount < auction.lot {
			ensure!(auction.tab - owe >= Params::<T>::get().dust, Error::<T>::LeavesDust);
		}

		T::Margin::transfer_cash(&taker, &auction.owner, owe)?;
		T::Margin::seize_collateral(&Self::auction_account(), auction.asset, amount, &taker)?;
		auction.lot -= amount;
		auction.tab -= owe;
		Self::deposit_event(Event::AuctionTaken { id, taker, amount, price, paid: owe });
		if auction.lot == 0 || auction.tab == 0 {
			Self::end_auction(id, auction)?;
			Ok(true)
		} else {
			Auctions::<T>::insert(id, auction);
			Ok(false)
		}
	}

	/// Stores a new auction under `id`, a fresh id from `NextAuctionId`, and counts it.
	fn open_auction(id: AuctionId, auction: AuctionOf<T>) {
		Auctions::<T>::insert(id, auction);
		CounterForAuctions::<T>::mutate(|n| *n = n.saturating_add(1));
	}

	/// Closes an auction whose tab is raised or whose lot is sold: the rest of the lot goes
	/// back to the owner (see `close_auction`).
	fn end_auction(id: AuctionId, auction: AuctionOf<T>) -> DispatchResult {
		let owner = auction.owner.clone();
		Self::deposit_event(Event::AuctionEnded { id, returned: auction.lot, unpaid: auction.tab });
		Self::close_auction(id, auction, &owner)
	}

	/// Removes an auction, hands what is left of its lot to `to`, and, once the owner has no
	/// other auction open and no position, sends a debt left to the debt stage.
	fn close_auction(id: AuctionId, auction: AuctionOf<T>, to: &T::AccountId) -> DispatchResult {
		Auctions::<T>::remove(id);
		CounterForAuctions::<T>::mutate(|n| *n = n.saturating_sub(1));
		Restarts::<T>::remove(id);
		if auction.lot > 0 {
			T::Margin::seize_collateral(&Self::auction_account(), auction.asset, auction.lot, to)?;
		}
		if T::Margin::auction_closed(&auction.owner)? == 0 {
			let risk = T::Margin::risk(&auction.owner, &mut Default::default());
			if risk.as_ref().is_some_and(|risk| risk.positions.is_empty()) {
				Self::settle_debt(&auction.owner, risk, &mut Vec::new())?;
			}
		}
		Ok(())
	}

	pub(crate) fn do_restart(keeper: T::AccountId, id: AuctionId) -> DispatchResult {
		ensure!(Breaker::<T>::get().allows(Stage::Auction), Error::<T>::BreakerActive);
		let mut auction = Auctions::<T>::get(id).ok_or(Error::<T>::UnknownAuction)?;
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(Self::needs_restart(&auction, now), Error::<T>::AuctionRunning);
		let fund = Self::insurance_fund();
		let restarts = Restarts::<T>::get(id);
		if restarts >= T::MaxRestarts::get() {
			let (lot, unpaid) = (auction.lot, auction.tab);
			Self::deposit_event(Event::AuctionRetired { id, lot, unpaid });
			return Self::close_auction(id, auction, &fund);
		}
		let price = T::Prices::price(auction.asset).fresh().ok_or(Error::<T>::PriceNotFresh)?;
		let params = Params::<T>::get();
		(auction.top, auction.floor) = top_and_floor(price, &params);
		auction.started = now;
		let su = T::Margin::settlement_unit();
		let worth = usd_value(auction.lot, auction.unit, price, su, Rounding::Down).unwrap_or(0);
		let tip = params
			.tip
			.min(crate::types::MAX_TIP_SHARE.mul_floor(worth))
			.min(T::Margin::cash(&fund).max(0).unsigned_abs());
		if tip > 0 && keeper != fund {
			T::Margin::transfer_cash(&fund, &keeper, tip)?;
		}
		let top = auction.top;
		Auctions::<T>::insert(id, auction);
		Restarts::<T>::insert(id, restarts.saturating_add(1));
		Self::deposit_event(Event::AuctionRestarted { id, top, keeper, tip });
		Ok(())
	}
}
