//! Stage (c), continued: auto-deleveraging (ADL).
//!
//! The vault is the counterparty of every position, so a position in profit is one the vault
//! loses on: after a crash, the profitable positions are the ones opposite the bankrupt
//! accounts'. What the insurance fund cannot pay, the vault absorbs and `SocializedLoss`
//! records. Beyond `AdlThreshold`, the excess is recovered from the most profitable positions,
//! ranked by PnL% (unrealized PnL over entry cost): each is closed at its entry price, as far
//! as needed, so its holder gives up the unrealized profit of the closed part and never more
//! (no principal, no fee).
//!
//! The chain picks the positions itself, so no submitter can spare one. Within one market and
//! side the ranking is the order of entry prices, which margin keeps for every position as it
//! trades (`ProfitOrder`, see margin's `ranking`): the best-ranked position of the whole chain
//! is the best of the heads of those orders, one per market and side, at the markets' fresh
//! prices. A `deleverage` walks them: it takes the best head, closes it as far as the excess
//! needs, and moves on to the next, until the excess is recovered or it has looked at as many
//! positions as it may. A head whose account cannot be deleveraged now (its equity is not
//! positive, or a price it needs is not fresh) is passed over (`DeleverageSkipped`), as
//! closing its profit would only deepen its deficit: liquidation is its remedy. An entry a
//! liquidation left stale in the order (margin's `ranking`) ranks no position: the walk
//! removes it (`StaleRankPruned`) as one of the positions it may look at, so the entries
//! ahead of the live ones cost the walk steps, never its order. The pool takes
//! a `deleverage` only from the node's own offchain worker and from blocks, one a block: an
//! outside submitter could choose nothing but a smaller `max`, and would slow recovery down.
//!
//! Leverage does not enter the ranking (as it does at some venues, PnL% × leverage): an
//! account's leverage moves with every price it is exposed to, so no order of it can be kept
//! on chain, and a ranking the chain cannot check is one the block author chooses.

use crate::types::Stage;
use crate::{pallet::*, types::AdlTarget};
use alloc::vec::Vec;
use frame_support::{ensure, pallet_prelude::*};
use perp_primitives::{
	entry_price, mul_div, Balance, Close, MarginLiquidator, MarginReader, MarketId, PositionRisk,
	Price, Ranked,
};
use sp_runtime::{FixedU128, Perbill, Rounding};

/// The PnL% of a position opened at `entry` on the `long` side at `price`: `None` unless it is
/// in profit.
fn gain(long: bool, entry: Price, price: Price) -> Option<FixedU128> {
	let profit = if long { price.checked_sub(&entry)? } else { entry.checked_sub(&price)? };
	if profit.is_zero() {
		return None;
	}
	// A long that cost nothing gains without bound.
	Some(profit.checked_div(&entry).unwrap_or(FixedU128::from_inner(u128::MAX)))
}

/// One side of one market: its fresh price and the head of its profit order.
struct Side<AccountId> {
	market: MarketId,
	long: bool,
	price: Price,
	head: Option<Ranked<AccountId>>,
}

/// An entry of the walk: a position, or a stale entry where one was.
pub(crate) struct Step<AccountId> {
	pub(crate) who: AccountId,
	pub(crate) market: MarketId,
	pub(crate) long: bool,
	/// The entry price it ranks by.
	pub(crate) entry: Price,
	/// Its PnL% at the market's price.
	pub(crate) gain: FixedU128,
	/// Whether it is an open position (else a stale entry).
	pub(crate) live: bool,
}

/// The walk over every position in deleveraging order: the heads of every market's and side's
/// profit order, the best of them next.
pub(crate) struct Ranking<T: Config> {
	sides: Vec<Side<T::AccountId>>,
}

impl<T: Config> Ranking<T> {
	/// The heads of every market with a fresh price.
	pub(crate) fn new() -> Self {
		let mut sides = Vec::new();
		for (market, price) in T::Margin::market_prices() {
			let Some(price) = price else { continue };
			for long in [true, false] {
				let head = T::Margin::ranked_after(market, long, None);
				sides.push(Side { market, long, price, head });
			}
		}
		Self { sides }
	}

	/// The next entry: the head that gains most at its market's price (ties in market order,
	/// longs first); `None` once no head is in profit. The walk moves past it.
	pub(crate) fn next(&mut self) -> Option<Step<T::AccountId>> {
		let mut best: Option<(usize, FixedU128)> = None;
		for (i, side) in self.sides.iter().enumerate() {
			let Some(head) = &side.head else { continue };
			let Some(gain) = gain(side.long, head.entry, side.price) else { continue };
			if best.is_none_or(|(_, top)| gain > top) {
				best = Some((i, gain));
			}
		}
		let (i, gain) = best?;
		let side = self.sides.get_mut(i)?;
		let Ranked { entry, who, live } = side.head.take()?;
		let after = (entry, who);
		side.head = T::Margin::ranked_after(side.market, side.long, Some(&after));
		let (entry, who) = after;
		Some(Step { who, market: side.market, long: side.long, entry, gain, live })
	}
}

impl<T: Config> Pallet<T> {
	/// The loss the vault absorbed beyond `AdlThreshold` and not recovered yet: what ADL
	/// recovers.
	pub fn adl_excess() -> Balance {
		SocializedLoss::<T>::get().saturating_sub(T::AdlThreshold::get())
	}

	/// `who`'s position in `market` at fresh prices, if it may be deleveraged now: in profit,
	/// with the account's equity positive.
	fn deleverageable(who: &T::AccountId, market: MarketId) -> Option<PositionRisk> {
		let risk = T::Margin::risk(who, &mut Default::default())?;
		let position = risk.positions.into_iter().find(|p| p.market == market)?;
		(risk.margins.equity > 0 && position.pnl > 0 && position.cost > 0).then_some(position)
	}

	/// Walks the first `steps` entries in deleveraging order, read only, handing `visit`
	/// each with its position if it may be deleveraged now (never for a stale entry), until
	/// `visit` says stop (`false`).
	fn walk(steps: u32, mut visit: impl FnMut(Step<T::AccountId>, Option<PositionRisk>) -> bool) {
		let mut ranking = Ranking::<T>::new();
		for _ in 0..steps {
			let Some(step) = ranking.next() else { return };
			let position =
				if step.live { Self::deleverageable(&step.who, step.market) } else { None };
			if !visit(step, position) {
				return;
			}
		}
	}

	/// Of the first `limit` entries in deleveraging order, the positions that may be
	/// deleveraged now, best first: what a `deleverage` would take (the runtime API's view).
	pub fn adl_ranking(limit: u32) -> Vec<AdlTarget<T::AccountId>> {
		let mut ranked = Vec::new();
		Self::walk(limit, |step, position| {
			if let Some(position) = position {
				let (who, market, score) = (step.who, step.market, step.gain);
				ranked.push(AdlTarget { who, market, score, pnl: position.pnl });
			}
			true
		});
		ranked
	}

	/// How many entries a `deleverage` should look at to recover the excess now, those it
	/// passes over or prunes included, at most `MaxBatch`; zero when it would neither
	/// deleverage a position nor prune a stale entry.
	pub(crate) fn adl_steps() -> u32 {
		let mut left = Self::adl_excess();
		if left == 0 {
			return 0;
		}
		let (mut steps, mut found) = (0, false);
		Self::walk(T::MaxBatch::get(), |step, position| {
			steps += 1;
			if let Some(position) = position {
				found = true;
				left = left.saturating_sub(position.pnl.unsigned_abs());
			}
			// Pruning a stale entry ahead of the positions is progress too.
			found |= !step.live;
			left > 0
		});
		if found {
			steps
		} else {
			0
		}
	}

	/// What any `deleverage` needs: the breaker runs, there is an excess to recover (returned)
	/// and `max` is within `1..=MaxBatch`.
	pub(crate) fn ensure_deleverage(max: u32) -> Result<Balance, DispatchError> {
		ensure!(Breaker::<T>::get().allows(Stage::Liquidation), Error::<T>::BreakerActive);
		let excess = Self::adl_excess();
		ensure!(excess > 0, Error::<T>::NothingToDeleverage);
		ensure!(max > 0, Error::<T>::EmptyBatch);
		ensure!(max <= T::MaxBatch::get(), Error::<T>::BatchTooLarge);
		Ok(excess)
	}

	/// What the pool checks of a `deleverage`: `ensure_deleverage`, and one of the first `max`
	/// entries in deleveraging order is a position that may be deleveraged now or a stale
	/// entry to prune.
	pub(crate) fn ensure_deleverageable(max: u32) -> DispatchResult {
		Self::ensure_deleverage(max)?;
		let mut found = false;
		Self::walk(max, |step, position| {
			found = position.is_some() || !step.live;
			!found
		});
		ensure!(found, Error::<T>::NotInProfit);
		Ok(())
	}

	/// Deleverages the best-ranked positions, in order, until the excess is recovered or `max`
	/// entries were looked at; passes over the positions that may not be deleveraged now and
	/// prunes the stale entries. Returns how many were looked at.
	pub(crate) fn do_deleverage(max: u32) -> Result<u32, DispatchError> {
		let mut left = Self::ensure_deleverage(max)?;
		let fund = Self::insurance_fund();
		let su = T::Margin::settlement_unit();
		let mut ranking = Ranking::<T>::new();
		let mut seen = 0;
		while left > 0 && seen < max {
			let Some(Step { who, market, long, entry, live, .. }) = ranking.next() else { break };
			seen += 1;
			if !live {
				if T::Margin::prune_ranked(market, long, entry, &who) {
					Self::deposit_event(Event::StaleRankPruned { who, market });
				}
				continue;
			}
			let Some(position) = Self::deleverageable(&who, market) else {
				Self::deposit_event(Event::DeleverageSkipped { who, market });
				continue;
			};
			let size = position.size.unsigned_abs();
			let pnl = position.pnl.unsigned_abs();
			// Just enough units that their share of the profit covers what is left.
			let amount = if pnl <= left {
				size
			} else {
				mul_div(size, left, pnl, Rounding::Up).unwrap_or(size).clamp(1, size)
			};
			// The entry price, rounded for the holder: it realizes no loss.
			let rounding = if position.size > 0 { Rounding::Up } else { Rounding::Down };
			let price = entry_price(position.cost, size, position.unit, su, rounding)
				.ok_or(Error::<T>::Overflow)?;
			let close = Close { market, amount, price };
			let reduced = T::Margin::reduce_positions(
				&who,
				&[close],
				Perbill::zero(),
				&fund,
				&mut Default::default(),
			)?;
			// (Margin answers one reduction per close, or an error.)
			let reduction = reduced.reductions.first().ok_or(Error::<T>::Overflow)?;
			// A position closed in full leaves its entry stale, where the next walk would
			// start: it goes now.
			if reduction.remaining == 0 {
				T::Margin::prune_ranked(market, long, entry, &who);
			}
			let given_up = mul_div(pnl, reduction.closed, size, Rounding::Down).unwrap_or(0);
			let recovered = i128::try_from(given_up)
				.unwrap_or(i128::MAX)
				.saturating_sub(reduction.realized)
				.max(0)
				.unsigned_abs()
				.min(left);
			left = left.saturating_sub(recovered);
			SocializedLoss::<T>::mutate(|loss| *loss = loss.saturating_sub(recovered));
			Self::deposit_event(Event::Deleveraged {
				who,
				market,
				closed: reduction.closed,
				price,
				recovered,
			});
		}
		Ok(seen)
	}
}
