//! The ledger moves of liquidation (`MarginLiquidator`): closes, seizures, shortfalls and cash
//! transfers, each exact in the books and in the risk index.

use crate::{
	pallet::*,
	risk::{self},
	valuation::{Pricing, Quotes},
	Interest, Position,
};
use alloc::vec::Vec;
use frame_support::{ensure, pallet_prelude::*};
use perp_primitives::{AssetId, Balance, MarketId};
use sp_runtime::{ArithmeticError, Perbill, Rounding};

impl<T: Config> Pallet<T> {
	/// Closes, for each of `closes`, up to its `amount` units of `who`'s position in its market
	/// at its price, without a fee; realized PnL settles with the vault; `penalty` of each
	/// closed notional moves from `who`'s cash to `beneficiary`'s. The account, the beneficiary,
	/// the vault and each market's open interest are written once, however many positions
	/// close; `who` is then valued once, re-indexed from that valuation, and the valuation is
	/// returned. Markets and prices come from `quotes`. For liquidation: no margin check, the
	/// caller decides.
	pub(crate) fn do_reduce_positions(
		who: &T::AccountId,
		closes: &[perp_primitives::Close],
		penalty: Perbill,
		beneficiary: &T::AccountId,
		quotes: &mut Quotes<T>,
	) -> Result<perp_primitives::Reduced, DispatchError> {
		ensure!(who != beneficiary, Error::<T>::InvalidBeneficiary);
		let mut account = Accounts::<T>::get(who).ok_or(Error::<T>::NoPosition)?;
		let mut receiver = Accounts::<T>::get(beneficiary).unwrap_or_default();
		let mut vault = Vault::<T>::get();
		let mut interest: Vec<(MarketId, Interest)> = Vec::new();
		let mut reductions = Vec::with_capacity(closes.len());
		// Each close's position before and after, for the profit order.
		let mut reranks = Vec::with_capacity(closes.len());
		// Nothing is written until every close has succeeded.
		let su = T::SettlementUnit::get();
		let overflow = || DispatchError::from(ArithmeticError::Overflow);

		for &perp_primitives::Close { market, amount, price } in closes {
			ensure!(amount > 0, Error::<T>::ZeroAmount);
			let params = quotes.market(market).ok_or(Error::<T>::UnknownMarket)?;
			let index = account
				.positions
				.iter()
				.position(|p| p.market == market)
				.ok_or(Error::<T>::NoPosition)?;
			let old = *account.positions.get(index).ok_or(Error::<T>::NoPosition)?;
			let closed = amount.min(old.size.unsigned_abs());
			let closed_signed = i128::try_from(closed).map_err(|_| overflow())?;
			let closed_signed = if old.size > 0 { closed_signed } else { -closed_signed };
			let remaining = old.size.checked_sub(closed_signed).ok_or_else(overflow)?;
			let (realized, rest) =
				risk::realize(old.cost, old.size, closed, params.unit, price, su)
					.ok_or_else(overflow)?;
			let notional =
				risk::value(closed, params.unit, price, su, Rounding::Up).ok_or_else(overflow)?;
			let penalty = penalty.mul_ceil(notional);
			account.cash = risk::settle(account.cash, realized, penalty).ok_or_else(overflow)?;
			let credit = i128::try_from(penalty).map_err(|_| overflow())?;
			receiver.cash = receiver.cash.checked_add(credit).ok_or_else(overflow)?;
			vault = vault.checked_sub(realized).ok_or_else(overflow)?;
			let slot = match interest.iter().position(|(m, _)| *m == market) {
				Some(i) => i,
				None => {
					interest.push((market, OpenInterest::<T>::get(market)));
					interest.len() - 1
				},
			};
			let (_, open) = interest.get_mut(slot).ok_or_else(overflow)?;
			let side = open.side_mut(old.size > 0);
			*side = side.checked_sub(closed).ok_or_else(overflow)?;

			let new = Position { market, size: remaining, cost: rest };
			if remaining == 0 {
				account.positions.remove(index);
			} else if let Some(slot) = account.positions.get_mut(index) {
				*slot = new;
			}
			reranks.push((old, new, params.unit));
			reductions.push(perp_primitives::Reduction { closed, remaining, realized, penalty });
		}

		// One valuation of what is left: the caller's answer and the account's new bands.
		let after = if account.is_empty() {
			None
		} else {
			Self::snapshot_with(&account, Pricing::Liquidation, quotes).ok()
		};
		// Still below its exit (its liquidation goes on, in its debt stage or the next block):
		// found at any price until then, flagged in the record written now, its other entries
		// kept, instead of rewriting one entry per asset it holds.
		let staying = after
			.as_ref()
			.is_some_and(|snapshot| snapshot.health().is_none_or(|h| Self::below_exit(&h)));
		let crossed = staying && Self::cross(who, &mut account);
		Self::store_account(who, &account);
		match &after {
			_ if crossed => {},
			Some(snapshot) if !staying => Self::reindex_from(who, &account, Some(snapshot)),
			// (A market without a fresh price, or nothing left: the bands at the last known
			// prices, or none.)
			_ => Self::reindex(who),
		}
		Self::store_account(beneficiary, &receiver);
		// A closed position's entry stays, stale: one write less a position (see `ranking`).
		for (old, new, unit) in reranks {
			Self::rerank(who, old.market, &old, &new, unit, crate::ranking::Closed::Leave);
		}
		for (market, open) in interest {
			OpenInterest::<T>::insert(market, open);
		}
		Vault::<T>::put(vault);
		// The beneficiary only gains cash: bands computed before stay on the safe side. Only an
		// indexed one is re-indexed (its debt may be gone); the insurance fund never is, which
		// saves a re-valuation per liquidated account.
		Self::reindex_if_indexed(beneficiary);
		// (The caller reports the closes: liquidation in one event per account.)
		let after = after.and_then(|mut snapshot| {
			snapshot.crossed = account.crossed;
			snapshot.account_risk()
		});
		Ok(perp_primitives::Reduced { reductions, after })
	}

	/// Moves `amount` of `who`'s collateral `asset` to `to`; with `opens_auction`, counts one
	/// more auction open for `who` in the same write.
	pub(crate) fn do_seize_collateral(
		who: &T::AccountId,
		asset: AssetId,
		amount: Balance,
		to: &T::AccountId,
		opens_auction: bool,
	) -> DispatchResult {
		ensure!(amount > 0, Error::<T>::ZeroAmount);
		ensure!(who != to, Error::<T>::InvalidBeneficiary);
		let mut from = Accounts::<T>::get(who).unwrap_or_default();
		if opens_auction {
			from.auctions = from.auctions.checked_add(1).ok_or(ArithmeticError::Overflow)?;
		}
		let mut receiver = Accounts::<T>::get(to).unwrap_or_default();
		let left = from
			.holding(asset)
			.checked_sub(amount)
			.ok_or(Error::<T>::InsufficientCollateral)?;
		let received =
			receiver.holding(asset).checked_add(amount).ok_or(ArithmeticError::Overflow)?;
		from.set_holding(asset, left).map_err(|_| ArithmeticError::Overflow)?;
		// (`who` held the asset, so it is listed: within `MaxCollateralAssets`.)
		receiver
			.set_holding(asset, received)
			.map_err(|_| Error::<T>::TooManyCollateralAssets)?;
		// `who` lost value: found at any price until it is re-indexed (by its next change, such
		// as an auction take repaying its debt).
		let crossed = Self::cross(who, &mut from);
		Self::store_account(who, &from);
		Self::store_account(to, &receiver);
		if !crossed {
			Self::reindex(who);
		}
		// `to` only gains collateral (see `do_reduce_positions`).
		Self::reindex_if_indexed(to);
		Self::deposit_event(Event::CollateralSeized {
			who: who.clone(),
			asset,
			amount,
			to: to.clone(),
		});
		Ok(())
	}

	/// Counts one auction fewer open for `owner`; returns how many stay open.
	pub(crate) fn do_auction_closed(owner: &T::AccountId) -> Result<u32, DispatchError> {
		let mut account = Accounts::<T>::get(owner).ok_or(Error::<T>::NoOpenAuction)?;
		account.auctions = account.auctions.checked_sub(1).ok_or(Error::<T>::NoOpenAuction)?;
		Self::store_account(owner, &account);
		Ok(account.auctions)
	}

	/// Covers `who`'s negative cash from `from`'s positive cash, at most `limit`; returns what
	/// stays uncovered.
	pub(crate) fn do_cover_shortfall(
		who: &T::AccountId,
		from: &T::AccountId,
		limit: Balance,
	) -> Result<Balance, DispatchError> {
		ensure!(who != from, Error::<T>::InvalidBeneficiary);
		let Some(mut account) = Accounts::<T>::get(who) else { return Ok(0) };
		if account.cash >= 0 {
			return Ok(0);
		}
		let deficit = account.cash.unsigned_abs();
		let mut payer = Accounts::<T>::get(from).unwrap_or_default();
		let available = payer.cash.max(0).unsigned_abs();
		let covered = deficit.min(available).min(limit);
		let covered_signed = i128::try_from(covered).map_err(|_| ArithmeticError::Overflow)?;
		account.cash += covered_signed;
		payer.cash -= covered_signed;
		Self::store_account(who, &account);
		Self::store_account(from, &payer);
		Self::reindex(who);
		Self::reindex(from);
		let uncovered = deficit - covered;
		Self::deposit_event(Event::ShortfallCovered {
			who: who.clone(),
			from: from.clone(),
			covered,
			uncovered,
		});
		Ok(uncovered)
	}

	/// The vault takes over `who`'s negative cash; returns the amount.
	pub(crate) fn do_absorb_shortfall(who: &T::AccountId) -> Result<Balance, DispatchError> {
		let Some(mut account) = Accounts::<T>::get(who) else { return Ok(0) };
		if account.cash >= 0 {
			return Ok(0);
		}
		let vault = Vault::<T>::get().checked_add(account.cash).ok_or(ArithmeticError::Overflow)?;
		let absorbed = account.cash.unsigned_abs();
		account.cash = 0;
		Vault::<T>::put(vault);
		Self::store_account(who, &account);
		Self::reindex(who);
		Self::deposit_event(Event::ShortfallAbsorbed { who: who.clone(), amount: absorbed });
		Ok(absorbed)
	}

	/// Moves `amount` of `from`'s cash to `to`; `from` keeps its initial margin if it has
	/// positions.
	pub(crate) fn do_transfer_cash(
		from: &T::AccountId,
		to: &T::AccountId,
		amount: Balance,
	) -> DispatchResult {
		ensure!(amount > 0, Error::<T>::ZeroAmount);
		ensure!(from != to, Error::<T>::InvalidBeneficiary);
		let debit = i128::try_from(amount).map_err(|_| Error::<T>::InsufficientCollateral)?;
		let mut payer = Accounts::<T>::get(from).unwrap_or_default();
		ensure!(payer.cash >= debit, Error::<T>::InsufficientCollateral);
		payer.cash -= debit;
		let mut receiver = Accounts::<T>::get(to).unwrap_or_default();
		receiver.cash = receiver.cash.checked_add(debit).ok_or(ArithmeticError::Overflow)?;
		if !payer.positions.is_empty() {
			let health = Self::evaluate(&payer, Pricing::FreshOnly)?;
			ensure!(health.free_margin() >= 0, Error::<T>::InsufficientMargin);
		}
		Self::store_account(from, &payer);
		Self::store_account(to, &receiver);
		Self::reindex(from);
		Self::reindex(to);
		Self::deposit_event(Event::CashTransferred { from: from.clone(), to: to.clone(), amount });
		Ok(())
	}
}
