//! The `do_*` functions behind the calls: custody, deposits, withdrawals, trades, markets,
//! collateral listing and the vault.

use crate::{
	pallet::*,
	risk::{self},
	valuation::Pricing,
	CollateralParams, Position,
};
use frame_support::{
	ensure,
	pallet_prelude::*,
	traits::{
		fungibles::{Inspect, Mutate},
		tokens::Preservation,
	},
};
use perp_primitives::{AssetId, Balance, MarketId, PriceProvider};
use sp_runtime::{traits::AccountIdConversion, ArithmeticError, Perbill, Rounding};

/// The largest leverage a market may allow.
pub const MAX_LEVERAGE: u32 = 1_000;
/// The largest minimum position notional a market may set, in whole settlement units.
pub const MAX_MIN_NOTIONAL: Balance = 100_000;
/// The largest minimum holding a collateral asset may set, in whole units of the asset.
pub const MAX_MIN_COLLATERAL: Balance = 1_000;
/// The highest trading fee a market may charge.
pub const MAX_TRADING_FEE: Perbill = Perbill::from_percent(10);
/// The widest exit buffer (`Config::ExitBuffer`): an account leaves liquidation by twice its
/// maintenance margin at the latest.
pub const MAX_EXIT_BUFFER: Perbill = Perbill::from_percent(100);

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

		let mut interest = OpenInterest::<T>::get(market);
		let side = |s: i128| (s.max(0).unsigned_abs(), s.min(0).unsigned_abs());
		let (old_long, old_short) = side(old.size);
		let (new_long, new_short) = side(size);
		interest.long = interest
			.long
			.checked_sub(old_long)
			.and_then(|l| l.checked_add(new_long))
			.ok_or_else(overflow)?;
		interest.short = interest
			.short
			.checked_sub(old_short)
			.and_then(|s| s.checked_add(new_short))
			.ok_or_else(overflow)?;
		if opened > 0 {
			let cap = if size > 0 {
				params.max_open_interest_long
			} else {
				params.max_open_interest_short
			};
			ensure!(interest.side(size > 0) <= cap, Error::<T>::OpenInterestCapExceeded);
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
		Self::rerank(&who, market, &old, &position, params.unit, crate::ranking::Closed::Remove);
		OpenInterest::<T>::insert(market, interest);
		Vault::<T>::put(vault);
		Fees::<T>::put(fees);
		Self::reindex(&who);
		Self::deposit_event(Event::Traded { who, market, delta, size, price, fee, realized });
		Ok(())
	}

	/// Stores `account`, or removes it when it holds nothing.
	pub(crate) fn store_account(who: &T::AccountId, account: &MarginAccountOf<T>) {
		if account.is_empty() {
			Accounts::<T>::remove(who);
		} else {
			Accounts::<T>::insert(who, account);
		}
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
}
