//! The `do_*` functions behind the calls: the breaker and the partial-liquidation stage.

use crate::pallet::*;
use frame_support::{ensure, pallet_prelude::*};
use perp_primitives::{MarginLiquidator, Margins, Price};
use sp_runtime::{traits::Saturating, FixedU128};

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

	/// Liquidates every account of the batch that is still liquidatable; returns how many were.
	pub(crate) fn do_liquidate(accounts: &AccountsOf<T>) -> Result<u32, DispatchError> {
		ensure!(Breaker::<T>::get() == BreakerLevel::Running, Error::<T>::BreakerActive);
		Self::ensure_batch(accounts)?;
		let mut done = 0;
		for who in accounts.iter() {
			if !Self::may_liquidate(who) {
				Self::deposit_event(Event::Skipped { who: who.clone() });
				continue;
			}
			Self::liquidate_account(who)?;
			done += 1;
		}
		Ok(done)
	}

	/// Stage (a), partial liquidation, of one liquidatable account.
	fn liquidate_account(who: &T::AccountId) -> DispatchResult {
		let Some(before) = T::Margin::margins(who) else { return Ok(()) };
		let full = Self::needs_full_liquidation(&before);
		let fund = Self::insurance_fund();
		let mut steps = 0u32;
		let mut after = before;
		for position in T::Margin::exposures(who) {
			let size = position.size.unsigned_abs();
			let amount = if full { size } else { position.max_partial.mul_ceil(size).max(1) };
			let price =
				Self::liquidation_price(position.price, position.discount, position.size > 0);
			let reduction = T::Margin::reduce_position(
				who,
				position.market,
				amount,
				price,
				T::Penalty::get(),
				&fund,
			)?;
			steps += 1;
			Self::deposit_event(Event::PositionClosed {
				who: who.clone(),
				market: position.market,
				closed: reduction.closed,
				price,
				penalty: reduction.penalty,
			});
			match T::Margin::margins(who) {
				Some(margins) => after = margins,
				None => break,
			}
			if !full && Self::is_restored(&after) {
				break;
			}
		}
		Self::deposit_event(Event::Liquidated {
			who: who.clone(),
			steps,
			full,
			equity: after.equity,
			maintenance: after.maintenance,
		});
		Ok(())
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
