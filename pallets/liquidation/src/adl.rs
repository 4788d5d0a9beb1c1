//! Stage (c), continued: auto-deleveraging (ADL).
//!
//! The vault is the counterparty of every position, so a position in profit is one the vault
//! loses on: after a crash, the profitable positions are the ones opposite the bankrupt
//! accounts'. What the insurance fund cannot pay, the vault absorbs and `SocializedLoss`
//! records. Beyond `AdlThreshold`, the excess is recovered from the most profitable positions,
//! ranked by PnL% × leverage (unrealized PnL over entry cost, times the position's notional over
//! its account's equity): each is closed at its entry price, as far as needed, so its holder
//! gives up the unrealized profit of the closed part and never more (no principal, no fee).
//!
//! Ranking every position needs a scan of every account, which the chain cannot afford in a
//! block: validators' offchain workers rank and submit an unsigned `deleverage`, and the chain
//! checks that every target is in profit and that their scores do not increase down the list.
//! That no better-ranked position was left out is the block author's word, as with dYdX's
//! proposer-chosen deleveraging: the pool takes `deleverage` only from the node's own offchain
//! worker (`TransactionSource::Local`) and from blocks, never from outside submitters, so only
//! a validator can choose the targets.

use crate::{pallet::*, types::AdlTarget};
use alloc::vec::Vec;
use frame_support::{ensure, pallet_prelude::*};
use perp_primitives::{entry_price, Balance, MarginLiquidator, MarketId, PositionRisk};
use sp_runtime::{
	helpers_128bit::multiply_by_rational_with_rounding, traits::Saturating, FixedPointNumber,
	FixedU128, Perbill, Rounding,
};

impl<T: Config> Pallet<T> {
	/// The loss the vault absorbed beyond `AdlThreshold` and not recovered yet: what ADL
	/// recovers.
	pub fn adl_excess() -> Balance {
		SocializedLoss::<T>::get().saturating_sub(T::AdlThreshold::get())
	}

	/// PnL% × leverage of a position whose account has `equity`; `None` unless it is in profit
	/// and the account's equity is positive.
	fn score(position: &PositionRisk, equity: i128, su: Balance) -> Option<FixedU128> {
		if position.pnl <= 0 || equity <= 0 || position.cost == 0 {
			return None;
		}
		let notional = perp_primitives::usd_value(
			position.size.unsigned_abs(),
			position.unit,
			position.price,
			su,
			Rounding::Up,
		)?;
		let gain = FixedU128::checked_from_rational(position.pnl.unsigned_abs(), position.cost)?;
		let leverage = FixedU128::checked_from_rational(notional, equity.unsigned_abs())?;
		Some(gain.saturating_mul(leverage))
	}

	/// `who`'s position in `market` with its score now, if it may be deleveraged.
	fn scored(who: &T::AccountId, market: MarketId) -> Option<(FixedU128, PositionRisk)> {
		let equity = T::Margin::margins(who)?.equity;
		let position = T::Margin::exposures(who).into_iter().find(|p| p.market == market)?;
		let score = Self::score(&position, equity, T::Margin::settlement_unit())?;
		Some((score, position))
	}

	/// Up to `limit` positions in profit, best score first (ties in account and market order):
	/// the offchain worker's ranking. Reads every account that holds a position.
	pub fn adl_ranking(limit: u32) -> Vec<AdlTarget<T::AccountId>> {
		let su = T::Margin::settlement_unit();
		let mut ranked: Vec<AdlTarget<T::AccountId>> = Vec::new();
		for who in T::Margin::position_holders() {
			let Some(margins) = T::Margin::margins(&who) else { continue };
			for position in T::Margin::exposures(&who) {
				if let Some(score) = Self::score(&position, margins.equity, su) {
					ranked.push(AdlTarget {
						who: who.clone(),
						market: position.market,
						score,
						pnl: position.pnl,
					});
				}
			}
		}
		ranked.sort_by(|a, b| {
			b.score.cmp(&a.score).then_with(|| (&a.who, a.market).cmp(&(&b.who, b.market)))
		});
		ranked.truncate(limit as usize);
		ranked
	}

	/// What any `deleverage` needs: the breaker runs, there is an excess to recover (returned)
	/// and some target.
	fn ensure_deleverage(targets: &TargetsOf<T>) -> Result<Balance, DispatchError> {
		ensure!(Breaker::<T>::get() == BreakerLevel::Running, Error::<T>::BreakerActive);
		let excess = Self::adl_excess();
		ensure!(excess > 0, Error::<T>::NothingToDeleverage);
		ensure!(!targets.is_empty(), Error::<T>::EmptyBatch);
		Ok(excess)
	}

	/// Target `i` of `targets` with its score, if it is named for the first time, in profit,
	/// and ranked no higher than the score `last` before it.
	fn ranked(
		targets: &TargetsOf<T>,
		i: usize,
		last: Option<FixedU128>,
	) -> Result<(FixedU128, PositionRisk), Error<T>> {
		let (who, market) = targets.get(i).ok_or(Error::<T>::EmptyBatch)?;
		ensure!(
			!targets.iter().take(i).any(|(other, m)| other == who && m == market),
			Error::<T>::DuplicateAccount
		);
		let (score, position) = Self::scored(who, *market).ok_or(Error::<T>::NotInProfit)?;
		ensure!(last.is_none_or(|last| score <= last), Error::<T>::NotRanked);
		Ok((score, position))
	}

	/// What the pool checks of a `deleverage`: `ensure_deleverage`, and every target is
	/// distinct, in profit and ranked (scores not increasing).
	pub(crate) fn ensure_ranked(targets: &TargetsOf<T>) -> DispatchResult {
		Self::ensure_deleverage(targets)?;
		let mut last = None;
		for i in 0..targets.len() {
			last = Some(Self::ranked(targets, i, last)?.0);
		}
		Ok(())
	}

	/// Deleverages `targets` in order until the excess is recovered. A target that is no longer
	/// in profit, or now outranks the one before it, is skipped. Returns how many targets were
	/// looked at (the rest, after the excess was recovered, were not).
	pub(crate) fn do_deleverage(targets: &TargetsOf<T>) -> Result<u32, DispatchError> {
		let mut left = Self::ensure_deleverage(targets)?;
		let fund = Self::insurance_fund();
		let su = T::Margin::settlement_unit();
		let mut last: Option<FixedU128> = None;
		let mut seen = 0;
		for (i, (who, market)) in targets.iter().enumerate() {
			if left == 0 {
				break;
			}
			seen += 1;
			let Ok((score, position)) = Self::ranked(targets, i, last) else {
				Self::deposit_event(Event::DeleverageSkipped { who: who.clone(), market: *market });
				continue;
			};
			last = Some(score);
			let size = position.size.unsigned_abs();
			let pnl = position.pnl.unsigned_abs();
			// Just enough units that their share of the profit covers what is left.
			let amount = if pnl <= left {
				size
			} else {
				multiply_by_rational_with_rounding(size, left, pnl, Rounding::Up)
					.unwrap_or(size)
					.clamp(1, size)
			};
			// The entry price, rounded for the holder: it realizes no loss.
			let rounding = if position.size > 0 { Rounding::Up } else { Rounding::Down };
			let price = entry_price(position.cost, size, position.unit, su, rounding)
				.ok_or(Error::<T>::Overflow)?;
			let reduction =
				T::Margin::reduce_position(who, *market, amount, price, Perbill::zero(), &fund)?;
			T::Margin::reindex(who);
			let given_up =
				multiply_by_rational_with_rounding(pnl, reduction.closed, size, Rounding::Down)
					.unwrap_or(0);
			let recovered = i128::try_from(given_up)
				.unwrap_or(i128::MAX)
				.saturating_sub(reduction.realized)
				.max(0)
				.unsigned_abs()
				.min(left);
			left = left.saturating_sub(recovered);
			SocializedLoss::<T>::mutate(|loss| *loss = loss.saturating_sub(recovered));
			Self::deposit_event(Event::Deleveraged {
				who: who.clone(),
				market: *market,
				closed: reduction.closed,
				price,
				recovered,
			});
		}
		Ok(seen)
	}
}
