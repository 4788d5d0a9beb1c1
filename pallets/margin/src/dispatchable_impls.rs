//! The `do_*` functions behind the calls, and the account evaluation they share.

use crate::{
	pallet::*,
	risk::{self, CollateralLine, Health, PositionLine},
	CollateralParams, Position,
};
use alloc::vec::Vec;
use frame_support::{
	ensure,
	pallet_prelude::*,
	traits::{
		fungibles::{Inspect, Mutate},
		tokens::Preservation,
	},
};
use perp_primitives::{AssetId, Balance, MarketId, Price, PriceProvider, PriceStatus};
use sp_runtime::{traits::AccountIdConversion, ArithmeticError, Perbill, Rounding};

/// How prices are taken when an account is evaluated.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Pricing {
	/// Every price involved must be `Fresh` (adding risk, withdrawing).
	FreshOnly,
	/// Every market's price must be `Fresh`; collateral whose price is not (stale, frozen or
	/// missing) counts at its last price for [`STALE_COLLATERAL_SHARE`] of its weight, and is
	/// not offered to auction (liquidating): a stale collateral price lowers what the account
	/// is worth, it does not keep its positions from being liquidated.
	Liquidation,
	/// The last known prices, whatever their status (reporting).
	LastKnown,
}

/// What counts, in a liquidation's valuation, of a collateral's weighted value while its price
/// is not fresh.
pub const STALE_COLLATERAL_SHARE: Perbill = Perbill::from_percent(50);

/// An account's collateral and positions with the prices they were valued at.
pub struct Snapshot<T: Config> {
	/// USD cash.
	pub cash: i128,
	/// Collateral holdings by asset.
	pub collateral: Vec<(AssetId, CollateralLine)>,
	/// Positions with their market and its price.
	pub markets: Vec<(Position, MarketParamsOf<T>, Price)>,
	/// Whether every price taken was fresh.
	pub all_fresh: bool,
	/// The collateral assets valued without a fresh price (`Pricing::Liquidation`).
	pub unpriced: Vec<AssetId>,
}

impl<T: Config> Snapshot<T> {
	/// The positions as `risk` takes them.
	pub fn position_lines(&self) -> Vec<PositionLine<'_>> {
		self.markets
			.iter()
			.map(|(position, params, price)| PositionLine {
				size: position.size,
				cost: position.cost,
				unit: params.unit,
				price: *price,
				tiers: &params.tiers,
			})
			.collect()
	}

	/// The collateral as `risk` takes it.
	pub fn collateral_lines(&self) -> Vec<CollateralLine> {
		self.collateral.iter().map(|(_, line)| *line).collect()
	}

	/// The positions as liquidation sees them, largest maintenance margin first (ties by
	/// market id).
	pub fn position_risks(&self) -> Vec<perp_primitives::PositionRisk> {
		let su = T::SettlementUnit::get();
		let mut risks: Vec<_> = self
			.position_lines()
			.iter()
			.zip(&self.markets)
			.map(|(line, (position, params, price))| {
				let notional = line.notional(su).unwrap_or(Balance::MAX);
				perp_primitives::PositionRisk {
					market: position.market,
					size: position.size,
					unit: params.unit,
					price: *price,
					cost: line.cost.unsigned_abs(),
					// (A PnL beyond 128 bits counts as none: such a position is not ranked.)
					pnl: line.pnl(su).unwrap_or_default(),
					initial: risk::requirement(notional, line.tiers, risk::initial),
					maintenance: risk::requirement(notional, line.tiers, risk::maintenance),
					discount: params.liquidation_discount,
					max_partial: params.max_partial_liquidation,
				}
			})
			.collect();
		risks.sort_by(|a, b| b.maintenance.cmp(&a.maintenance).then(a.market.cmp(&b.market)));
		risks
	}

	/// The non-settlement collateral as liquidation sees it, asset id order.
	pub fn collateral_risks(&self) -> Vec<perp_primitives::CollateralRisk> {
		let mut holdings: Vec<_> = self
			.collateral
			.iter()
			.filter(|(asset, _)| !self.unpriced.contains(asset))
			.map(|(asset, line)| perp_primitives::CollateralRisk {
				asset: *asset,
				amount: line.amount,
				unit: line.unit,
				price: line.price,
			})
			.collect();
		holdings.sort_by_key(|h| h.asset);
		holdings
	}

	/// The account as liquidation sees it; `None` on overflow.
	pub fn account_risk(&self) -> Option<perp_primitives::AccountRisk> {
		Some(perp_primitives::AccountRisk {
			margins: self.health()?.into(),
			cash: self.cash,
			positions: self.position_risks(),
			collateral: self.collateral_risks(),
			unpriced_collateral: !self.unpriced.is_empty(),
		})
	}

	/// Equity and requirements; `None` on overflow.
	pub fn health(&self) -> Option<Health> {
		risk::evaluate(
			self.cash,
			&self.collateral_lines(),
			&self.position_lines(),
			T::SettlementUnit::get(),
		)
	}
}

/// The largest leverage a market may allow.
pub const MAX_LEVERAGE: u32 = 1_000;
/// The largest minimum position notional a market may set, in whole settlement units.
pub const MAX_MIN_NOTIONAL: Balance = 100_000;
/// The largest minimum holding a collateral asset may set, in whole units of the asset.
pub const MAX_MIN_COLLATERAL: Balance = 1_000;
/// The highest trading fee a market may charge.
pub const MAX_TRADING_FEE: Perbill = Perbill::from_percent(10);

impl<T: Config> Pallet<T> {
	/// The account that holds all collateral.
	pub fn custody_account() -> T::AccountId {
		T::PalletId::get().into_account_truncating()
	}

	/// `who`'s position in `market`, if any.
	pub fn position(who: &T::AccountId, market: MarketId) -> Option<Position> {
		Accounts::<T>::get(who)?.positions.into_iter().find(|p| p.market == market)
	}

	/// Records what the custody account holds of `asset` as its reserve, once it holds at
	/// least the asset's minimum balance: withdrawals keep the custody alive, so the reserve
	/// guarantees every recorded unit can leave.
	pub(crate) fn seed_reserve(asset: AssetId) -> DispatchResult {
		ensure!(T::Assets::asset_exists(asset), Error::<T>::UnknownAsset);
		let held = T::Assets::balance(asset, &Self::custody_account());
		let owed = TotalCollateral::<T>::get(asset);
		let reserve = held.checked_sub(owed).ok_or(ArithmeticError::Underflow)?;
		ensure!(reserve >= T::Assets::minimum_balance(asset).max(1), Error::<T>::CustodyNotSeeded);
		CustodyReserve::<T>::insert(asset, reserve);
		Ok(())
	}

	/// Moves `amount` of `asset` from `who` into custody; returns what custody received. An
	/// amount that would leave `who` a balance below the asset's minimum takes that dust along:
	/// `pallet-assets` would destroy it without lowering its supply (the fuzzer's
	/// `asset-supply` invariant), and the depositor would lose it.
	fn pull(asset: AssetId, who: &T::AccountId, amount: Balance) -> Result<Balance, DispatchError> {
		ensure!(CustodyReserve::<T>::contains_key(asset), Error::<T>::CustodyNotSeeded);
		let held = T::Assets::balance(asset, who);
		let left = held.saturating_sub(amount);
		let amount =
			if left > 0 && left < T::Assets::minimum_balance(asset) { held } else { amount };
		let custody = Self::custody_account();
		let before = T::Assets::balance(asset, &custody);
		T::Assets::transfer(asset, who, &custody, amount, Preservation::Expendable)?;
		let after = T::Assets::balance(asset, &custody);
		Ok(after.checked_sub(before).ok_or(ArithmeticError::Underflow)?)
	}

	/// Moves `amount` of `asset` from custody to `who`; the custody account is kept alive.
	fn push(asset: AssetId, who: &T::AccountId, amount: Balance) -> DispatchResult {
		T::Assets::transfer(asset, &Self::custody_account(), who, amount, Preservation::Preserve)?;
		Ok(())
	}

	pub(crate) fn do_deposit(who: T::AccountId, asset: AssetId, amount: Balance) -> DispatchResult {
		ensure!(amount > 0, Error::<T>::ZeroAmount);
		let settlement = asset == T::SettlementAsset::get();
		let mut account = Accounts::<T>::get(&who).unwrap_or_default();
		// The holding before the deposit (none for the settlement asset, held as cash).
		let held = account.holding(asset);
		if !settlement {
			let params = CollateralAssets::<T>::get(asset).ok_or(Error::<T>::UnknownAsset)?;
			// (What custody receives is at least `amount`: see `pull`.)
			ensure!(
				held.saturating_add(amount) >= params.min_amount,
				Error::<T>::CollateralTooSmall
			);
		}
		let received = Self::pull(asset, &who, amount)?;
		let credit = i128::try_from(received).map_err(|_| ArithmeticError::Overflow)?;
		if settlement {
			account.cash = account.cash.checked_add(credit).ok_or(ArithmeticError::Overflow)?;
		} else {
			let balance = held.checked_add(received).ok_or(ArithmeticError::Overflow)?;
			let total = TotalCollateral::<T>::get(asset)
				.checked_add(received)
				.ok_or(ArithmeticError::Overflow)?;
			// (Only listed assets are held, at most `MaxCollateralAssets` of them.)
			account
				.set_holding(asset, balance)
				.map_err(|_| Error::<T>::TooManyCollateralAssets)?;
			TotalCollateral::<T>::insert(asset, total);
		}
		Self::store_account(&who, &account);
		Self::reindex(&who);
		Self::deposit_event(Event::Deposited { who, asset, amount: received });
		Ok(())
	}

	pub(crate) fn do_withdraw(
		who: T::AccountId,
		asset: AssetId,
		amount: Balance,
	) -> DispatchResult {
		ensure!(amount > 0, Error::<T>::ZeroAmount);
		let settlement = asset == T::SettlementAsset::get();
		let listed = CollateralAssets::<T>::get(asset);
		ensure!(settlement || listed.is_some(), Error::<T>::UnknownAsset);
		let mut account = Accounts::<T>::get(&who).unwrap_or_default();
		let mut total = None;
		if settlement {
			let debit = i128::try_from(amount).map_err(|_| Error::<T>::InsufficientCollateral)?;
			// Cash can pay out only what it holds: no withdrawal into debt.
			ensure!(account.cash >= debit, Error::<T>::InsufficientCollateral);
			account.cash -= debit;
		} else {
			let balance = account
				.holding(asset)
				.checked_sub(amount)
				.ok_or(Error::<T>::InsufficientCollateral)?;
			// `TotalCollateral` is the sum of the accounts' balances (an invariant).
			let min = listed.map_or(0, |params| params.min_amount);
			ensure!(balance == 0 || balance >= min, Error::<T>::CollateralTooSmall);
			total = Some(
				TotalCollateral::<T>::get(asset)
					.checked_sub(amount)
					.ok_or(ArithmeticError::Underflow)?,
			);
			// (Lowering a holding never needs room.)
			account.set_holding(asset, balance).map_err(|_| ArithmeticError::Overflow)?;
		}

		// With positions or debt, what is left must cover the initial margin at fresh prices.
		if !account.positions.is_empty() || account.cash < 0 {
			let health = Self::evaluate(&account, Pricing::FreshOnly)?;
			ensure!(health.free_margin() >= 0, Error::<T>::InsufficientMargin);
		}

		Self::push(asset, &who, amount)?;
		if let Some(total) = total {
			TotalCollateral::<T>::insert(asset, total);
		}
		Self::store_account(&who, &account);
		Self::reindex(&who);
		Self::deposit_event(Event::Withdrawn { who, asset, amount });
		Ok(())
	}

	pub(crate) fn do_trade(who: T::AccountId, market: MarketId, delta: i128) -> DispatchResult {
		ensure!(delta != 0, Error::<T>::ZeroAmount);
		let params = Markets::<T>::get(market).ok_or(Error::<T>::UnknownMarket)?;
		let info = T::Prices::price(params.asset);
		let price = info.fresh().ok_or(Error::<T>::PriceNotFresh)?;
		let su = T::SettlementUnit::get();

		let mut account = Accounts::<T>::get(&who).unwrap_or_default();
		let index = account.positions.iter().position(|p| p.market == market);
		let old = match index.and_then(|i| account.positions.get(i)) {
			Some(position) => *position,
			None => Position { market, size: 0, cost: 0 },
		};
		let size = old.size.checked_add(delta).ok_or(ArithmeticError::Overflow)?;
		// Sizes are negated below; `i128::MIN` has no negation.
		ensure!(delta != i128::MIN && size != i128::MIN, ArithmeticError::Overflow);
		// No dust: what is left open is worth at least the market's minimum.
		if size != 0 {
			// (Beyond the value range it is no dust: the checks below refuse it.)
			let left = risk::value(size.unsigned_abs(), params.unit, price, su, Rounding::Down)
				.unwrap_or(Balance::MAX);
			ensure!(left >= params.min_notional, Error::<T>::PositionTooSmall);
		}

		// Split the trade into the part that closes the old position and the part that opens
		// (or extends) the new one.
		let reduces = old.size != 0 && (old.size > 0) != (delta > 0);
		let closed = if reduces { delta.unsigned_abs().min(old.size.unsigned_abs()) } else { 0 };
		let opened = delta.unsigned_abs() - closed;
		let overflow = || DispatchError::from(ArithmeticError::Overflow);

		let (mut long, mut short) = OpenInterest::<T>::get(market);
		let side = |s: i128| (s.max(0).unsigned_abs(), s.min(0).unsigned_abs());
		let (old_long, old_short) = side(old.size);
		let (new_long, new_short) = side(size);
		long = long
			.checked_sub(old_long)
			.and_then(|l| l.checked_add(new_long))
			.ok_or_else(overflow)?;
		short = short
			.checked_sub(old_short)
			.and_then(|s| s.checked_add(new_short))
			.ok_or_else(overflow)?;
		if opened > 0 {
			let (open, cap) = if size > 0 {
				(long, params.max_open_interest_long)
			} else {
				(short, params.max_open_interest_short)
			};
			ensure!(open <= cap, Error::<T>::OpenInterestCapExceeded);
		}

		let (realized, mut cost) = if closed > 0 {
			risk::realize(old.cost, old.size, closed, params.unit, price, su)
				.ok_or_else(overflow)?
		} else {
			(0, old.cost)
		};
		if opened > 0 {
			let opened_signed = if size > 0 { opened as i128 } else { -(opened as i128) };
			let entry = risk::signed_value_ceil(opened_signed, params.unit, price, su)
				.ok_or_else(overflow)?;
			cost = cost.checked_add(entry).ok_or_else(overflow)?;
		}
		let traded = risk::value(delta.unsigned_abs(), params.unit, price, su, Rounding::Up)
			.ok_or_else(overflow)?;
		let fee = risk::fee(traded, params.trading_fee);
		account.cash = risk::settle(account.cash, realized, fee).ok_or_else(overflow)?;
		let vault = Vault::<T>::get().checked_sub(realized).ok_or_else(overflow)?;
		let fees = Fees::<T>::get().checked_add(fee).ok_or_else(overflow)?;

		let position = Position { market, size, cost };
		match (index, size) {
			(Some(i), 0) => {
				account.positions.remove(i);
			},
			(Some(i), _) => {
				if let Some(slot) = account.positions.get_mut(i) {
					*slot = position;
				}
			},
			(None, _) => {
				account.positions.try_push(position).map_err(|_| Error::<T>::TooManyPositions)?
			},
		}

		if opened > 0 {
			let health = Self::evaluate(&account, Pricing::FreshOnly)?;
			let notional = risk::value(size.unsigned_abs(), params.unit, price, su, Rounding::Up)
				.ok_or_else(overflow)?;
			let limit =
				health.equity.max(0).unsigned_abs().saturating_mul(params.max_leverage.into());
			ensure!(notional <= limit, Error::<T>::LeverageTooHigh);
			ensure!(health.free_margin() >= 0, Error::<T>::InsufficientMargin);
		}

		Self::store_account(&who, &account);
		Self::rerank(&who, market, &old, &position, params.unit);
		OpenInterest::<T>::insert(market, (long, short));
		Vault::<T>::put(vault);
		Fees::<T>::put(fees);
		Self::reindex(&who);
		Self::deposit_event(Event::Traded { who, market, delta, size, price, fee, realized });
		Ok(())
	}

	/// Closes, for each of `closes`, up to its `amount` units of `who`'s position in its market
	/// at its price, without a fee; realized PnL settles with the vault; `penalty` of each
	/// closed notional moves from `who`'s cash to `beneficiary`'s. The account, the beneficiary,
	/// the vault and each market's open interest are written once, however many positions
	/// close; `who` is then valued once, re-indexed from that valuation, and the valuation is
	/// returned. For liquidation: no margin check, the caller decides.
	pub(crate) fn do_reduce_positions(
		who: &T::AccountId,
		closes: &[perp_primitives::Close],
		penalty: Perbill,
		beneficiary: &T::AccountId,
	) -> Result<perp_primitives::Reduced, DispatchError> {
		ensure!(who != beneficiary, Error::<T>::InvalidBeneficiary);
		let mut account = Accounts::<T>::get(who).ok_or(Error::<T>::NoPosition)?;
		let mut receiver = Accounts::<T>::get(beneficiary).unwrap_or_default();
		let mut vault = Vault::<T>::get();
		let mut interest: Vec<(MarketId, (Balance, Balance))> = Vec::new();
		let mut reductions = Vec::with_capacity(closes.len());
		// Each close's position before and after, for the profit order.
		let mut reranks = Vec::with_capacity(closes.len());
		// The markets of the positions left, for the valuation after the closes.
		let mut known = Vec::with_capacity(closes.len());
		// Nothing is written until every close has succeeded.
		let su = T::SettlementUnit::get();
		let overflow = || DispatchError::from(ArithmeticError::Overflow);

		for &perp_primitives::Close { market, amount, price } in closes {
			ensure!(amount > 0, Error::<T>::ZeroAmount);
			let params = Markets::<T>::get(market).ok_or(Error::<T>::UnknownMarket)?;
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
			let (_, (long, short)) = interest.get_mut(slot).ok_or_else(overflow)?;
			let side = if old.size > 0 { long } else { short };
			*side = side.checked_sub(closed).ok_or_else(overflow)?;

			let new = Position { market, size: remaining, cost: rest };
			if remaining == 0 {
				account.positions.remove(index);
			} else if let Some(slot) = account.positions.get_mut(index) {
				*slot = new;
			}
			reranks.push((old, new, params.unit));
			if remaining != 0 {
				known.push((market, params));
			}
			reductions.push(perp_primitives::Reduction { closed, remaining, realized, penalty });
		}

		// One valuation of what is left: the caller's answer and the account's new bands.
		let after = if account.is_empty() {
			None
		} else {
			Self::snapshot_with(&account, Pricing::Liquidation, known).ok()
		};
		Self::store_account(who, &account);
		match &after {
			Some(snapshot) => Self::reindex_from(who, &account, Some(snapshot)),
			// (A market without a fresh price: the bands at the last known prices.)
			None => Self::reindex(who),
		}
		Self::store_account(beneficiary, &receiver);
		for (old, new, unit) in reranks {
			Self::rerank(who, old.market, &old, &new, unit);
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
		let after = after.and_then(|snapshot| snapshot.account_risk());
		Ok(perp_primitives::Reduced { reductions, after })
	}

	/// Moves `amount` of `who`'s collateral `asset` to `to`.
	pub(crate) fn do_seize_collateral(
		who: &T::AccountId,
		asset: AssetId,
		amount: Balance,
		to: &T::AccountId,
	) -> DispatchResult {
		ensure!(amount > 0, Error::<T>::ZeroAmount);
		ensure!(who != to, Error::<T>::InvalidBeneficiary);
		let mut from = Accounts::<T>::get(who).unwrap_or_default();
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
		Self::store_account(who, &from);
		Self::store_account(to, &receiver);
		// `who` lost value: found at any price until it is re-indexed (by its next change, such
		// as an auction take repaying its debt).
		Self::mark_crossed(who);
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

	/// Stores `account`, or removes it when it holds nothing.
	fn store_account(who: &T::AccountId, account: &MarginAccountOf<T>) {
		if account.is_empty() {
			Accounts::<T>::remove(who);
		} else {
			Accounts::<T>::insert(who, account);
		}
	}

	/// The cash, collateral and positions of `account`, at prices taken as `pricing` says.
	pub(crate) fn snapshot(
		account: &MarginAccountOf<T>,
		pricing: Pricing,
	) -> Result<Snapshot<T>, DispatchError> {
		Self::snapshot_with(account, pricing, Vec::new())
	}

	/// [`Self::snapshot`] with the parameters of some markets already read (`known`, taken
	/// instead of reading them again).
	pub(crate) fn snapshot_with(
		account: &MarginAccountOf<T>,
		pricing: Pricing,
		mut known: Vec<(MarketId, MarketParamsOf<T>)>,
	) -> Result<Snapshot<T>, DispatchError> {
		let mut all_fresh = true;
		// Each asset's price is read once, however many markets and holdings share it.
		let mut seen: Vec<(AssetId, perp_primitives::PriceInfo)> = Vec::new();
		// The price of `asset` and whether it is fresh, or the error `pricing` makes of it.
		let mut price_of =
			|asset: AssetId, collateral: bool| -> Result<(Price, bool), DispatchError> {
				let info = match seen.iter().find(|(a, _)| *a == asset) {
					Some((_, info)) => *info,
					None => {
						let info = T::Prices::price(asset);
						seen.push((asset, info));
						info
					},
				};
				let fresh = info.status == PriceStatus::Fresh;
				all_fresh &= fresh;
				match pricing {
					Pricing::FreshOnly if !fresh => Err(Error::<T>::PriceNotFresh.into()),
					Pricing::Liquidation if !fresh && !collateral => {
						Err(Error::<T>::PriceNotFresh.into())
					},
					_ => Ok((info.price, fresh)),
				}
			};
		let mut unpriced = Vec::new();
		let mut collateral = Vec::with_capacity(account.collateral.len());
		for &(asset, amount) in &account.collateral {
			let params = CollateralAssets::<T>::get(asset).ok_or(Error::<T>::UnknownAsset)?;
			let (price, fresh) = price_of(asset, true)?;
			let weight = if fresh || pricing != Pricing::Liquidation {
				params.weight
			} else {
				unpriced.push(asset);
				STALE_COLLATERAL_SHARE * params.weight
			};
			collateral.push((asset, CollateralLine { amount, unit: params.unit, price, weight }));
		}
		let mut markets = Vec::with_capacity(account.positions.len());
		for position in &account.positions {
			let params = match known.iter().position(|(market, _)| *market == position.market) {
				Some(i) => known.swap_remove(i).1,
				None => Markets::<T>::get(position.market).ok_or(Error::<T>::UnknownMarket)?,
			};
			let (price, _) = price_of(params.asset, false)?;
			markets.push((*position, params, price));
		}
		Ok(Snapshot { cash: account.cash, collateral, markets, all_fresh, unpriced })
	}

	/// `who`'s snapshot as liquidation values it (`Pricing::Liquidation`); `None` without an
	/// account or a fresh price of a market it holds.
	pub(crate) fn liquidation_snapshot(who: &T::AccountId) -> Option<Snapshot<T>> {
		let account = Accounts::<T>::get(who)?;
		Self::snapshot(&account, Pricing::Liquidation).ok()
	}

	/// Evaluates `account` as [`Self::snapshot`] describes.
	pub fn evaluate(
		account: &MarginAccountOf<T>,
		pricing: Pricing,
	) -> Result<Health, DispatchError> {
		Self::snapshot(account, pricing)?
			.health()
			.ok_or_else(|| ArithmeticError::Overflow.into())
	}

	/// Checks a market's parameters.
	pub(crate) fn ensure_valid_market(params: &MarketParamsOf<T>) -> DispatchResult {
		let invalid = || Error::<T>::InvalidMarketParams;
		ensure!(params.asset != T::SettlementAsset::get() && params.unit > 0, invalid());
		ensure!((1..=MAX_LEVERAGE).contains(&params.max_leverage), invalid());
		let min_initial = Perbill::from_rational(1, params.max_leverage);
		let first = params.tiers.first().ok_or_else(invalid)?;
		let mut previous: Option<&crate::Tier> = None;
		for tier in params.tiers.iter() {
			ensure!(!tier.maintenance.is_zero(), invalid());
			ensure!(tier.maintenance < tier.initial, invalid());
			ensure!(tier.initial >= min_initial, invalid());
			// Below 100%, so that health is monotonic in price (see `risk::liquidation_price`).
			ensure!(tier.maintenance < Perbill::one(), invalid());
			if let Some(prev) = previous {
				ensure!(tier.up_to > prev.up_to, invalid());
				ensure!(tier.initial >= prev.initial, invalid());
				ensure!(tier.maintenance >= prev.maintenance, invalid());
			}
			previous = Some(tier);
		}
		ensure!(params.max_open_interest_long > 0 && params.max_open_interest_short > 0, invalid());
		ensure!(params.trading_fee <= MAX_TRADING_FEE, invalid());
		// A liquidation may concede at most the smallest maintenance margin, so that closing a
		// position at the discount cannot by itself push a liquidatable account into deficit.
		ensure!(params.liquidation_discount <= first.maintenance, invalid());
		ensure!(!params.max_partial_liquidation.is_zero(), invalid());
		let max_min = T::SettlementUnit::get().saturating_mul(MAX_MIN_NOTIONAL);
		ensure!(params.min_notional <= max_min, invalid());
		Ok(())
	}

	pub(crate) fn do_create_market(params: MarketParamsOf<T>) -> Result<MarketId, DispatchError> {
		Self::ensure_valid_market(&params)?;
		ensure!(Markets::<T>::count() < T::MaxMarkets::get(), Error::<T>::TooManyMarkets);
		let market = NextMarketId::<T>::get();
		let next = market.checked_add(1).ok_or(ArithmeticError::Overflow)?;
		Markets::<T>::insert(market, params.clone());
		NextMarketId::<T>::put(next);
		Self::deposit_event(Event::MarketCreated { market, params });
		Ok(market)
	}

	pub(crate) fn do_update_market(market: MarketId, params: MarketParamsOf<T>) -> DispatchResult {
		let current = Markets::<T>::get(market).ok_or(Error::<T>::UnknownMarket)?;
		Self::ensure_valid_market(&params)?;
		ensure!(
			params.asset == current.asset && params.unit == current.unit,
			Error::<T>::InvalidMarketParams
		);
		Markets::<T>::insert(market, params.clone());
		Self::bump_risk_version();
		Self::deposit_event(Event::MarketUpdated { market, params });
		Ok(())
	}

	pub(crate) fn do_set_collateral(
		asset: AssetId,
		params: Option<CollateralParams>,
	) -> DispatchResult {
		ensure!(asset != T::SettlementAsset::get(), Error::<T>::InvalidCollateralParams);
		match params {
			Some(p) => {
				ensure!(p.unit > 0 && !p.weight.is_zero(), Error::<T>::InvalidCollateralParams);
				ensure!(
					p.min_amount <= p.unit.saturating_mul(MAX_MIN_COLLATERAL),
					Error::<T>::InvalidCollateralParams
				);
				if !CollateralAssets::<T>::contains_key(asset) {
					ensure!(
						CollateralAssets::<T>::count() < T::MaxCollateralAssets::get(),
						Error::<T>::TooManyCollateralAssets
					);
					Self::seed_reserve(asset)?;
				} else {
					// Balances are held in the asset's unit: a new unit would revalue them.
					let unit = CollateralAssets::<T>::get(asset).map(|listed| listed.unit);
					ensure!(
						unit == Some(p.unit) || TotalCollateral::<T>::get(asset) == 0,
						Error::<T>::CollateralInUse
					);
					// A lower weight can lower health.
					Self::bump_risk_version();
				}
				CollateralAssets::<T>::insert(asset, p);
			},
			None => {
				ensure!(CollateralAssets::<T>::contains_key(asset), Error::<T>::UnknownAsset);
				ensure!(TotalCollateral::<T>::get(asset) == 0, Error::<T>::CollateralInUse);
				CollateralAssets::<T>::remove(asset);
			},
		}
		Self::deposit_event(Event::CollateralSet { asset, params });
		Ok(())
	}

	pub(crate) fn do_fund_vault(who: T::AccountId, amount: Balance) -> DispatchResult {
		ensure!(amount > 0, Error::<T>::ZeroAmount);
		let received = Self::pull(T::SettlementAsset::get(), &who, amount)?;
		let credit = i128::try_from(received).map_err(|_| ArithmeticError::Overflow)?;
		let vault = Vault::<T>::get().checked_add(credit).ok_or(ArithmeticError::Overflow)?;
		Vault::<T>::put(vault);
		Self::deposit_event(Event::VaultFunded { who, amount: received });
		Ok(())
	}

	/// Checks the pallet's invariants (listed in the README).
	#[cfg(any(feature = "try-runtime", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		let custody = Self::custody_account();

		// Collateral: per asset, the entries add up to the total; custody holds it all.
		let mut sums: BTreeMap<AssetId, Balance> = BTreeMap::new();
		for (_, account) in Accounts::<T>::iter() {
			let assets = account.collateral.iter().map(|(asset, _)| asset);
			ensure!(assets.clone().zip(assets.skip(1)).all(|(a, b)| a < b), "collateral order");
			for &(asset, balance) in &account.collateral {
				ensure!(balance > 0, "zero collateral entry");
				ensure!(
					CollateralAssets::<T>::contains_key(asset),
					"collateral in an unlisted asset"
				);
				let sum = sums.entry(asset).or_default();
				*sum = sum.checked_add(balance).ok_or("collateral sum overflows")?;
			}
		}
		for (asset, total) in TotalCollateral::<T>::iter() {
			ensure!(sums.remove(&asset).unwrap_or_default() == total, "collateral sum != total");
			let owed = total.checked_add(CustodyReserve::<T>::get(asset)).ok_or("overflow")?;
			ensure!(T::Assets::balance(asset, &custody) >= owed, "custody holds less than owed");
		}
		ensure!(sums.is_empty(), "collateral recorded without a total");
		ensure!(
			CollateralAssets::<T>::count() <= T::MaxCollateralAssets::get(),
			"too many collateral assets"
		);

		// Accounts, positions and open interest.
		let mut interest: BTreeMap<MarketId, (Balance, Balance)> = BTreeMap::new();
		let mut cash: i128 = 0;
		for (_, account) in Accounts::<T>::iter() {
			ensure!(!account.is_empty(), "empty account stored");
			cash = cash.checked_add(account.cash).ok_or("cash sum overflows")?;
			let mut seen = Vec::new();
			for position in &account.positions {
				ensure!(position.size != 0, "empty position stored");
				ensure!(Markets::<T>::contains_key(position.market), "position in no market");
				ensure!(!seen.contains(&position.market), "two positions in one market");
				seen.push(position.market);
				let oi = interest.entry(position.market).or_default();
				if position.size > 0 {
					oi.0 = oi.0.checked_add(position.size.unsigned_abs()).ok_or("overflow")?;
				} else {
					oi.1 = oi.1.checked_add(position.size.unsigned_abs()).ok_or("overflow")?;
				}
			}
		}
		for (market, oi) in OpenInterest::<T>::iter() {
			ensure!(interest.remove(&market).unwrap_or_default() == oi, "open interest != sizes");
		}
		ensure!(interest.values().all(|oi| *oi == (0, 0)), "sizes without open interest");

		// USD: custody holds the reserve, every account's cash, the vault and the fees.
		let settlement = T::SettlementAsset::get();
		let owed = cash
			.checked_add(Vault::<T>::get())
			.and_then(|o| o.checked_add(i128::try_from(Fees::<T>::get()).ok()?))
			.and_then(|o| o.checked_add(i128::try_from(CustodyReserve::<T>::get(settlement)).ok()?))
			.ok_or("USD sum overflows")?;
		let held =
			i128::try_from(T::Assets::balance(settlement, &custody)).map_err(|_| "overflow")?;
		ensure!(held >= owed, "custody holds less USD than owed");

		// The risk index: entries and their owners agree, every account that could become
		// liquidatable is indexed, and one that no fresh price has crossed is not liquidatable.
		let version = RiskVersion::<T>::get();
		let mut outdated = 0u32;
		for (who, (v, triggers)) in Triggers::<T>::iter() {
			if v < version {
				outdated += 1;
			}
			let account = Accounts::<T>::get(&who).ok_or("index entries of no account")?;
			ensure!(!account.positions.is_empty() || account.cash < 0, "index entries, no risk");
			for t in &triggers {
				if let Some(b) = t.lower {
					ensure!(LowerTriggers::<T>::contains_key((t.asset, b, &who)), "lower missing");
				}
				if let Some(b) = t.upper {
					ensure!(UpperTriggers::<T>::contains_key((t.asset, b, &who)), "upper missing");
				}
			}
		}
		ensure!(outdated == Outdated::<T>::get(), "outdated count mismatch");
		for ((asset, bucket, who), ()) in LowerTriggers::<T>::iter() {
			let (_, triggers) = Triggers::<T>::get(&who).ok_or("lower entry of no account")?;
			ensure!(
				triggers.iter().any(|t| t.asset == asset && t.lower == Some(bucket)),
				"stray lower entry"
			);
		}
		for ((asset, bucket, who), ()) in UpperTriggers::<T>::iter() {
			let (_, triggers) = Triggers::<T>::get(&who).ok_or("upper entry of no account")?;
			ensure!(
				triggers.iter().any(|t| t.asset == asset && t.upper == Some(bucket)),
				"stray upper entry"
			);
		}
		for (who, account) in Accounts::<T>::iter() {
			if account.positions.is_empty() && account.cash >= 0 {
				continue;
			}
			ensure!(Triggers::<T>::contains_key(&who), "account at risk not indexed");
			if let Ok(health) = Self::evaluate(&account, Pricing::Liquidation) {
				ensure!(
					Self::is_crossed(&who) || !health.state().is_liquidatable(),
					"liquidatable account inside its safe band"
				);
			}
		}

		// The profit order holds every open position, at its key, and nothing else.
		let su = T::SettlementUnit::get();
		let mut open = 0usize;
		for (who, account) in Accounts::<T>::iter() {
			for position in &account.positions {
				let unit = Markets::<T>::get(position.market).ok_or("position in no market")?.unit;
				let (long, key) =
					crate::ranking::rank(position, unit, su).ok_or("empty position stored")?;
				ensure!(
					ProfitOrder::<T>::contains_key((position.market, long, key, &who)),
					"position missing from the profit order"
				);
				open += 1;
			}
		}
		ensure!(ProfitOrder::<T>::iter_keys().count() == open, "stray profit order entry");

		// Markets.
		ensure!(Markets::<T>::count() <= T::MaxMarkets::get(), "too many markets");
		for (market, params) in Markets::<T>::iter() {
			ensure!(market < NextMarketId::<T>::get(), "market id not below the next id");
			ensure!(Self::ensure_valid_market(&params).is_ok(), "market parameters out of bounds");
		}
		Ok(())
	}
}
