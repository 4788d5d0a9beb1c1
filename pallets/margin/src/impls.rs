//! The traits this pallet provides to other pallets.

use crate::{pallet::*, valuation::Pricing};
use frame_support::traits::Get;
use perp_primitives::{AccountRisk, Balance, HealthState};

impl<T: Config> Pallet<T> {
	/// `who`'s health at fresh prices: `None` for an account that holds nothing, or that holds
	/// a position whose market price is not fresh (no verdict is given on stale prices).
	/// Collateral with a price that is not fresh counts as liquidation values it
	/// (`Pricing::Liquidation`).
	pub fn health(who: &T::AccountId) -> Option<HealthState> {
		let account = Accounts::<T>::get(who)?;
		// Without positions or debt there is nothing to cover.
		if account.positions.is_empty() && account.cash >= 0 {
			return Some(HealthState::Healthy);
		}
		Self::evaluate(&account, Pricing::Liquidation).ok().map(|h| h.state())
	}
}

impl<T: Config> Pallet<T> {
	/// `who`'s account at the last known prices (for the runtime API); `None` if it holds
	/// nothing.
	pub fn account_summary(who: &T::AccountId) -> Option<crate::AccountSummary> {
		use crate::{risk, AccountSummary, CollateralView, PositionView};
		use sp_runtime::Rounding;

		let account = Accounts::<T>::get(who)?;
		let su = T::SettlementUnit::get();
		let snapshot = Self::snapshot(&account, Pricing::LastKnown).ok()?;
		let collateral_lines = snapshot.collateral_lines();
		let lines = snapshot.position_lines();
		let health = snapshot.health().unwrap_or_default();
		let collateral = snapshot
			.collateral
			.iter()
			.map(|(asset, line)| CollateralView {
				asset: *asset,
				amount: line.amount,
				weighted_value: risk::value(line.amount, line.unit, line.price, su, Rounding::Down)
					.map_or(0, |v| line.weight.mul_floor(v)),
			})
			.collect();
		let positions = lines
			.iter()
			.zip(&snapshot.markets)
			.enumerate()
			.map(|(i, (line, (position, ..)))| {
				let notional = line.notional(su).unwrap_or(Balance::MAX);
				let entry = perp_primitives::entry_price(
					line.cost.unsigned_abs(),
					line.size.unsigned_abs(),
					line.unit,
					su,
					Rounding::NearestPrefUp,
				)
				.unwrap_or_default();
				PositionView {
					market: position.market,
					size: line.size,
					entry_price: entry,
					price: line.price,
					notional,
					pnl: line.pnl(su).unwrap_or_default(),
					initial: risk::requirement(notional, line.tiers, risk::initial),
					maintenance: risk::requirement(notional, line.tiers, risk::maintenance),
					liquidation_price: risk::liquidation_price(
						account.cash,
						&collateral_lines,
						&lines,
						i,
						T::MaxPrice::get(),
						su,
					),
				}
			})
			.collect();
		Some(AccountSummary {
			cash: account.cash,
			collateral,
			positions,
			equity: health.equity,
			initial: health.initial,
			maintenance: health.maintenance,
			state: health.state(),
			prices_fresh: snapshot.all_fresh,
		})
	}

	/// Every market with its parameters, open interest and price, by id (for the runtime API).
	pub fn market_views() -> alloc::vec::Vec<crate::MarketView> {
		use perp_primitives::PriceProvider;
		let mut views: alloc::vec::Vec<_> = Markets::<T>::iter()
			.map(|(market, params)| crate::MarketView {
				market,
				asset: params.asset,
				unit: params.unit,
				tiers: params.tiers.to_vec(),
				max_leverage: params.max_leverage,
				open_interest: OpenInterest::<T>::get(market),
				max_open_interest: (params.max_open_interest_long, params.max_open_interest_short),
				trading_fee: params.trading_fee,
				price: T::Prices::price(params.asset),
			})
			.collect();
		views.sort_by_key(|view| view.market);
		views
	}
}

impl<T: Config> perp_primitives::PriceUsers for Pallet<T> {
	/// A market on the asset, the asset listed as collateral, or collateral of it still held
	/// (by accounts or in auctions) after a delisting.
	fn uses(asset: perp_primitives::AssetId) -> bool {
		CollateralAssets::<T>::contains_key(asset)
			|| TotalCollateral::<T>::get(asset) > 0
			|| Markets::<T>::iter_values().any(|market| market.asset == asset)
	}

	/// Two reads, then every market (at most `MaxMarkets`).
	fn uses_weight() -> frame_support::weights::Weight {
		T::DbWeight::get().reads(u64::from(T::MaxMarkets::get()).saturating_add(2))
	}
}

impl<T: Config> perp_primitives::MarginReader<T::AccountId> for Pallet<T> {
	type Quotes = crate::valuation::Quotes<T>;

	fn candidates(limit: u32) -> alloc::vec::Vec<T::AccountId> {
		Self::crossed_accounts(limit)
	}

	fn risk(who: &T::AccountId, quotes: &mut Self::Quotes) -> Option<AccountRisk> {
		Self::liquidation_snapshot(who, quotes)?.account_risk()
	}

	fn market_prices(
	) -> alloc::vec::Vec<(perp_primitives::MarketId, Option<perp_primitives::Price>)> {
		use perp_primitives::PriceProvider;
		let mut prices: alloc::vec::Vec<_> = Markets::<T>::iter()
			.map(|(market, params)| (market, T::Prices::price(params.asset).fresh()))
			.collect();
		prices.sort_unstable_by_key(|(market, _)| *market);
		prices
	}

	fn ranked_after(
		market: perp_primitives::MarketId,
		long: bool,
		after: Option<&(perp_primitives::Price, T::AccountId)>,
	) -> Option<perp_primitives::Ranked<T::AccountId>> {
		Self::next_ranked(market, long, after)
	}

	fn cash(who: &T::AccountId) -> i128 {
		Accounts::<T>::get(who).map_or(0, |account| account.cash)
	}

	fn collateral(who: &T::AccountId, asset: perp_primitives::AssetId) -> Balance {
		Accounts::<T>::get(who).map_or(0, |account| account.holding(asset))
	}

	fn open_auctions(who: &T::AccountId) -> u32 {
		Accounts::<T>::get(who).map_or(0, |account| account.auctions)
	}

	fn auction_counts() -> alloc::vec::Vec<(T::AccountId, u32)> {
		Accounts::<T>::iter()
			.filter(|(_, account)| account.auctions > 0)
			.map(|(who, account)| (who, account.auctions))
			.collect()
	}

	fn settlement_unit() -> Balance {
		T::SettlementUnit::get()
	}

	fn max_positions() -> u32 {
		T::MaxPositions::get()
	}
}

impl<T: Config> perp_primitives::MarginLiquidator<T::AccountId> for Pallet<T> {
	fn reduce_positions(
		who: &T::AccountId,
		closes: &[perp_primitives::Close],
		penalty: sp_runtime::Perbill,
		beneficiary: &T::AccountId,
		quotes: &mut Self::Quotes,
	) -> Result<perp_primitives::Reduced, sp_runtime::DispatchError> {
		Self::do_reduce_positions(who, closes, penalty, beneficiary, quotes)
	}

	fn prune_ranked(
		market: perp_primitives::MarketId,
		long: bool,
		entry: perp_primitives::Price,
		who: &T::AccountId,
	) -> bool {
		Self::do_prune_ranked(market, long, entry, who)
	}

	fn auction_collateral(
		who: &T::AccountId,
		asset: perp_primitives::AssetId,
		amount: Balance,
		holder: &T::AccountId,
	) -> sp_runtime::DispatchResult {
		Self::do_seize_collateral(who, asset, amount, holder, true)
	}

	fn auction_closed(owner: &T::AccountId) -> Result<u32, sp_runtime::DispatchError> {
		Self::do_auction_closed(owner)
	}

	fn seize_collateral(
		who: &T::AccountId,
		asset: perp_primitives::AssetId,
		amount: Balance,
		to: &T::AccountId,
	) -> sp_runtime::DispatchResult {
		Self::do_seize_collateral(who, asset, amount, to, false)
	}

	fn cover_shortfall(
		who: &T::AccountId,
		from: &T::AccountId,
		limit: Balance,
	) -> Result<Balance, sp_runtime::DispatchError> {
		Self::do_cover_shortfall(who, from, limit)
	}

	fn absorb_shortfall(who: &T::AccountId) -> Result<Balance, sp_runtime::DispatchError> {
		Self::do_absorb_shortfall(who)
	}

	fn transfer_cash(
		from: &T::AccountId,
		to: &T::AccountId,
		amount: Balance,
	) -> sp_runtime::DispatchResult {
		Self::do_transfer_cash(from, to, amount)
	}
}
